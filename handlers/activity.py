"""/activity: a CSO member reports an activity against an indicator of the plan, step by step."""

from __future__ import annotations

from datetime import date, datetime
from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from db import Database
from db.activity_reports import ActivityReport
from handlers import commands
from handlers.activity_form import (
    ActivityCb,
    ActivityForm,
    Draft,
    input_error,
    next_step,
    prompt,
)
from handlers.plan_views import short
from handlers.reply import answer, drop_keyboard
from handlers.review_views import announce_submission
from handlers.roles import ReportsForOrganisation, guard
from plan import Plan
from plan.codes import measures_by_code
from plan.search import MeasureSearch
from plan.validation import (
    MAX_DESCRIPTION,
    MAX_TITLE,
    InputError,
    clean_text,
    parse_date,
    parse_participants,
    parse_quantity,
    parse_url,
)

SEARCH_CHOICES = 6
_STEP_BY_NAME = {s.state.split(":")[1]: s for s in ActivityForm.__all_states__ if s.state}


async def _ask(message: Message, state: FSMContext, step: State, draft: Draft, plan: Plan) -> None:
    await state.set_state(step)
    await state.set_data(draft.dump())
    await answer(message, *prompt(step, draft, plan))


async def _advance(
    message: Message, state: FSMContext, after: State, draft: Draft, plan: Plan
) -> None:
    step = next_step(after, draft, plan)
    if step == ActivityForm.confirm:
        draft.editing = False
    await _ask(message, state, step, draft, plan)


async def _draft(state: FSMContext) -> Draft:
    return Draft.load(await state.get_data())


def _today(config: Settings) -> date:
    return datetime.now(config.timezone).date()


# --- entering and leaving ---------------------------------------------------------------------


async def cmd_activity(message: Message, state: FSMContext, plan: Plan) -> None:
    current = await state.get_state()
    if (
        current is not None
        and current.startswith("ActivityForm:")
        and current != ActivityForm.cancel.state
    ):
        await answer(message, _("You have an unfinished report; let us continue it."))
        draft = await _draft(state)
        await answer(message, *prompt(_STEP_BY_NAME[current.split(":")[1]], draft, plan))
        return
    await _ask(message, state, ActivityForm.measure, Draft(), plan)


async def on_cancel_request(event: Message | CallbackQuery, state: FSMContext) -> None:
    data = await state.get_data()
    data["resume"] = await state.get_state()
    await state.set_state(ActivityForm.cancel)
    await state.set_data(data)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Yes, discard it"), callback_data=ActivityCb(action="discard"))
    builder.button(text=_("No, continue"), callback_data=ActivityCb(action="resume"))
    text = _("Discard this report? What you have entered will be lost.")
    if isinstance(event, CallbackQuery):
        await event.answer()
        if isinstance(event.message, Message):
            await event.message.answer(text, reply_markup=builder.as_markup())
        return
    await answer(event, text, builder.as_markup())


async def on_discard(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("The report was discarded. Nothing was sent."))


async def on_resume(query: CallbackQuery, state: FSMContext, plan: Plan) -> None:
    data = await state.get_data()
    resume = _STEP_BY_NAME.get(str(data.pop("resume", "")).split(":")[-1], ActivityForm.measure)
    await query.answer()
    if isinstance(query.message, Message):
        await drop_keyboard(query.message)
        await _ask(query.message, state, resume, Draft.load(data), plan)


# --- the steps --------------------------------------------------------------------------------


async def on_measure_text(
    message: Message, state: FSMContext, plan: Plan, search: MeasureSearch
) -> None:
    assert message.text is not None
    by_code = measures_by_code(plan, message.text)
    if len(by_code) == 1:
        await _choose_measure(message, state, plan, by_code[0].code)
        return
    candidates = list(by_code) or [h.measure for h in search.search(message.text, SEARCH_CHOICES)]
    if not candidates:
        await answer(
            message, _("I found no measure for that. Try its code, e.g. 1.1.1, or other words.")
        )
        return
    builder = InlineKeyboardBuilder()
    for m in candidates:
        builder.button(
            text=short(f"{m.code}. {m.title}"),
            callback_data=ActivityCb(action="measure", value=m.code),
        )
    builder.button(text=_("✖ Cancel"), callback_data=ActivityCb(action="cancel"))
    builder.adjust(1)
    await answer(message, _("Which one?"), builder.as_markup())


async def on_measure_button(
    query: CallbackQuery, callback_data: ActivityCb, state: FSMContext, plan: Plan
) -> None:
    await query.answer()
    if plan.measure(callback_data.value) is None or not isinstance(query.message, Message):
        return
    await drop_keyboard(query.message)
    await _choose_measure(query.message, state, plan, callback_data.value)


async def _choose_measure(message: Message, state: FSMContext, plan: Plan, code: str) -> None:
    draft = await _draft(state)
    measure = plan.measure(code)
    assert measure is not None
    if draft.measure != code:
        # Another measure means another indicator: what depended on the old one is asked again.
        draft.measure, draft.indicator = code, None
        draft.quantity = draft.cso = draft.council = None
    if len(measure.indicators) == 1:
        draft.indicator = measure.indicators[0].id
        _default_quantity(draft, plan)
    await answer(
        message, _("Measure {code}: {title}").format(code=code, title=escape(measure.title))
    )
    await _advance(message, state, ActivityForm.measure, draft, plan)


def _default_quantity(draft: Draft, plan: Plan) -> None:
    indicator = plan.indicator(draft.indicator or "")
    if indicator is not None and indicator.kind == "milestone":
        draft.quantity = 1


async def on_indicator_button(
    query: CallbackQuery, callback_data: ActivityCb, state: FSMContext, plan: Plan
) -> None:
    await query.answer()
    draft = await _draft(state)
    indicator = plan.indicator(callback_data.value)
    if indicator is None or indicator.measure_code != draft.measure:
        return
    if not isinstance(query.message, Message):
        return
    if draft.indicator != indicator.id:
        draft.indicator, draft.quantity, draft.cso, draft.council = indicator.id, None, None, None
    _default_quantity(draft, plan)
    await drop_keyboard(query.message)
    await _advance(query.message, state, ActivityForm.indicator, draft, plan)


async def on_date(message: Message, state: FSMContext, plan: Plan, config: Settings) -> None:
    assert message.text is not None
    try:
        value = parse_date(message.text, plan, _today(config))
    except InputError as e:
        await _refuse(message, state, plan, e)
        return
    draft = await _draft(state)
    draft.date = value.isoformat()
    await _advance(message, state, ActivityForm.date, draft, plan)


async def on_title(message: Message, state: FSMContext, plan: Plan) -> None:
    assert message.text is not None
    try:
        title = clean_text(message.text, limit=MAX_TITLE)
    except InputError as e:
        await _refuse(message, state, plan, e)
        return
    draft = await _draft(state)
    draft.title = title
    await _advance(message, state, ActivityForm.title, draft, plan)


async def on_description(message: Message, state: FSMContext, plan: Plan) -> None:
    assert message.text is not None
    try:
        text = clean_text(message.text, limit=MAX_DESCRIPTION)
    except InputError as e:
        await _refuse(message, state, plan, e)
        return
    draft = await _draft(state)
    draft.description = text
    await _advance(message, state, ActivityForm.description, draft, plan)


async def on_quantity(message: Message, state: FSMContext, plan: Plan) -> None:
    assert message.text is not None
    await _set_quantity(message, state, plan, message.text)


async def on_quantity_button(
    query: CallbackQuery, callback_data: ActivityCb, state: FSMContext, plan: Plan
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await drop_keyboard(query.message)
        await _set_quantity(query.message, state, plan, callback_data.value)


async def _set_quantity(message: Message, state: FSMContext, plan: Plan, raw: str) -> None:
    try:
        quantity = parse_quantity(raw)
    except InputError as e:
        await _refuse(message, state, plan, e)
        return
    draft = await _draft(state)
    draft.quantity = quantity
    await _advance(message, state, ActivityForm.quantity, draft, plan)


async def on_cso(message: Message, state: FSMContext, plan: Plan) -> None:
    assert message.text is not None
    try:
        value = parse_participants(message.text)
    except InputError as e:
        await _refuse(message, state, plan, e)
        return
    draft = await _draft(state)
    draft.cso = value
    # The council count always follows the CSO count, also when editing.
    await _ask(message, state, ActivityForm.council, draft, plan)


async def on_council(message: Message, state: FSMContext, plan: Plan) -> None:
    assert message.text is not None
    try:
        value = parse_participants(message.text)
    except InputError as e:
        await _refuse(message, state, plan, e)
        return
    draft = await _draft(state)
    draft.council = value
    await _advance(message, state, ActivityForm.council, draft, plan)


async def on_co_organisers(message: Message, state: FSMContext, plan: Plan) -> None:
    assert message.text is not None
    try:
        text = clean_text(message.text, limit=MAX_TITLE * 2)
    except InputError as e:
        await _refuse(message, state, plan, e)
        return
    draft = await _draft(state)
    draft.co_organisers = text
    await _advance(message, state, ActivityForm.co_organisers, draft, plan)


async def on_evidence(message: Message, state: FSMContext, plan: Plan) -> None:
    draft = await _draft(state)
    if message.photo:
        draft.evidence_kind, draft.evidence = "photo", message.photo[-1].file_id
    elif message.document:
        draft.evidence_kind, draft.evidence = "document", message.document.file_id
    else:
        try:
            draft.evidence = parse_url(message.text or "")
        except InputError as e:
            await _refuse(message, state, plan, e)
            return
        draft.evidence_kind = "link"
    await _advance(message, state, ActivityForm.evidence, draft, plan)


async def on_skip(query: CallbackQuery, state: FSMContext, plan: Plan) -> None:
    await query.answer()
    current = await state.get_state()
    step = _STEP_BY_NAME.get(str(current).split(":")[-1])
    if step not in (ActivityForm.description, ActivityForm.co_organisers, ActivityForm.evidence):
        return
    if not isinstance(query.message, Message):
        return
    draft = await _draft(state)
    if step == ActivityForm.description:
        draft.description = ""
    elif step == ActivityForm.co_organisers:
        draft.co_organisers = ""
    else:
        draft.evidence_kind = draft.evidence = None
    await drop_keyboard(query.message)
    await _advance(query.message, state, step, draft, plan)


async def on_edit(
    query: CallbackQuery, callback_data: ActivityCb, state: FSMContext, plan: Plan
) -> None:
    await query.answer()
    step = _STEP_BY_NAME.get(callback_data.value)
    if step is None or step in (ActivityForm.confirm, ActivityForm.cancel):
        return
    if not isinstance(query.message, Message):
        return
    draft = await _draft(state)
    draft.editing = True
    await drop_keyboard(query.message)
    await _ask(query.message, state, step, draft, plan)


async def on_submit(
    query: CallbackQuery,
    state: FSMContext,
    plan: Plan,
    db: Database,
    bot: Bot,
    config: Settings,
    event_from_user: User,
    organisation_id: int,
) -> None:
    draft = await _draft(state)
    if not isinstance(query.message, Message):
        await query.answer()
        return
    missing = _first_missing(draft, plan)
    if missing is None and draft.date is not None:
        # A pre-filled report (from an event) or an older draft may carry a date the loaded plan
        # does not cover: check it again before anything is stored.
        try:
            parse_date(draft.date, plan, _today(config))
        except InputError as e:
            await query.answer()
            await answer(query.message, "⚠ " + input_error(e))
            missing = ActivityForm.date
    if missing is not None:
        await query.answer()
        draft.editing = True
        await _ask(query.message, state, missing, draft, plan)
        return
    async with db.transaction() as repo:
        activity_id = await repo.reports.submit(
            _as_report(draft, plan, organisation_id, event_from_user.id)
        )
        coordinators = set(config.coordinator_ids) | set(await repo.coordinators.all())
    await state.clear()
    await query.answer()
    await drop_keyboard(query.message)
    await answer(
        query.message,
        _(
            "✅ Report №{id} was sent for review. You will be told the outcome; see /myreports."
        ).format(id=activity_id),
    )
    await announce_submission(bot, db, plan, activity_id, coordinators)


def _first_missing(draft: Draft, plan: Plan) -> State | None:
    indicator = plan.indicator(draft.indicator or "")
    if draft.measure is None:
        return ActivityForm.measure
    if indicator is None:
        return ActivityForm.indicator
    if draft.date is None:
        return ActivityForm.date
    if draft.title is None:
        return ActivityForm.title
    if draft.quantity is None:
        return ActivityForm.quantity
    if indicator.min_participants is not None and (draft.cso is None or draft.council is None):
        return ActivityForm.cso
    return None


def _as_report(draft: Draft, plan: Plan, organisation_id: int, user_id: int) -> ActivityReport:
    assert draft.measure and draft.indicator and draft.date and draft.title and draft.quantity
    return ActivityReport(
        id=draft.activity_id,
        plan_id=plan.id,
        indicator_id=draft.indicator,
        measure_code=draft.measure,
        organisation_id=organisation_id,
        reported_by=user_id,
        date=date.fromisoformat(draft.date),
        quantity=draft.quantity,
        cso_participants=draft.cso,
        council_participants=draft.council,
        title=draft.title,
        description=draft.description,
        co_organisers=draft.co_organisers,
        evidence_kind=draft.evidence_kind,
        evidence=draft.evidence,
    )


async def _refuse(message: Message, state: FSMContext, plan: Plan, error: InputError) -> None:
    """Say what was wrong and ask the same question again; nothing entered so far is lost."""
    await answer(message, "⚠ " + input_error(error))
    current = await state.get_state()
    step = _STEP_BY_NAME.get(str(current).split(":")[-1], ActivityForm.measure)
    await answer(message, *prompt(step, await _draft(state), plan))


async def on_unexpected(message: Message, state: FSMContext, plan: Plan) -> None:
    """A sticker where a date was asked, say: explain and ask again."""
    await answer(message, _("I expected something else here."))
    current = await state.get_state()
    step = _STEP_BY_NAME.get(str(current).split(":")[-1], ActivityForm.measure)
    await answer(message, *prompt(step, await _draft(state), plan))


async def on_unexpected_while_cancelling(message: Message) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Yes, discard it"), callback_data=ActivityCb(action="discard"))
    builder.button(text=_("No, continue"), callback_data=ActivityCb(action="resume"))
    await answer(
        message, _("Discard this report? What you have entered will be lost."), builder.as_markup()
    )


async def on_not_member(message: Message) -> None:
    await answer(
        message,
        _(
            "Reports are sent on behalf of a registered organisation. Register yours or ask to "
            "join it with /register; a coordinator will confirm it."
        ),
    )


def build_router() -> Router:
    router = Router(name=__name__)
    members = Router(name=f"{__name__}.members")
    guard(members, ReportsForOrganisation())
    in_dialog = StateFilter(*[s for s in ActivityForm.__all_states__ if s != ActivityForm.cancel])
    members.message.register(cmd_activity, commands.ACTIVITY.filter)
    members.message.register(on_cancel_request, commands.CANCEL.filter, in_dialog)
    members.callback_query.register(
        on_cancel_request, ActivityCb.filter(F.action == "cancel"), in_dialog
    )
    members.callback_query.register(
        on_discard, ActivityCb.filter(F.action == "discard"), StateFilter(ActivityForm.cancel)
    )
    members.callback_query.register(
        on_resume, ActivityCb.filter(F.action == "resume"), StateFilter(ActivityForm.cancel)
    )
    members.message.register(on_measure_text, StateFilter(ActivityForm.measure), F.text)
    members.callback_query.register(
        on_measure_button,
        ActivityCb.filter(F.action == "measure"),
        StateFilter(ActivityForm.measure),
    )
    members.callback_query.register(
        on_indicator_button,
        ActivityCb.filter(F.action == "indicator"),
        StateFilter(ActivityForm.indicator),
    )
    members.message.register(on_date, StateFilter(ActivityForm.date), F.text)
    members.message.register(on_title, StateFilter(ActivityForm.title), F.text)
    members.message.register(on_description, StateFilter(ActivityForm.description), F.text)
    members.message.register(on_quantity, StateFilter(ActivityForm.quantity), F.text)
    members.callback_query.register(
        on_quantity_button,
        ActivityCb.filter(F.action == "quantity"),
        StateFilter(ActivityForm.quantity),
    )
    members.message.register(on_cso, StateFilter(ActivityForm.cso), F.text)
    members.message.register(on_council, StateFilter(ActivityForm.council), F.text)
    members.message.register(on_co_organisers, StateFilter(ActivityForm.co_organisers), F.text)
    members.message.register(
        on_evidence, StateFilter(ActivityForm.evidence), F.text | F.photo | F.document
    )
    members.callback_query.register(on_skip, ActivityCb.filter(F.action == "skip"), in_dialog)
    members.callback_query.register(
        on_edit, ActivityCb.filter(F.action == "edit"), StateFilter(ActivityForm.confirm)
    )
    members.callback_query.register(
        on_submit, ActivityCb.filter(F.action == "submit"), StateFilter(ActivityForm.confirm)
    )
    # Commands still work inside the dialog; anything else unexpected gets the question again.
    members.message.register(on_unexpected, in_dialog, ~F.text.startswith("/"))
    members.message.register(
        on_unexpected_while_cancelling, StateFilter(ActivityForm.cancel), ~F.text.startswith("/")
    )
    # A router tries its own handlers before its children's, so the guests' answer is a child too.
    guests = Router(name=f"{__name__}.guests")
    guests.message.register(
        on_not_member, Command(commands.ACTIVITY.name, commands.MYREPORTS.name)
    )
    router.include_routers(members, guests)
    return router
