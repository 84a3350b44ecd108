"""/activity: a CSO member reports an activity against an indicator of the plan, step by step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
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
from handlers.dialogs import ask_to_discard, discard, discard_keyboard
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
# Steps answered by typing: the draft field, how the answer is read, and (rarely) a fixed next
# step — the council count always follows the CSO count, also when editing.
_TYPED_STEPS: dict[State, tuple[str, Callable[[str, Plan, date], Any], State | None]] = {
    ActivityForm.date: (
        "date",
        lambda raw, plan, today: parse_date(raw, plan, today).isoformat(),
        None,
    ),
    ActivityForm.title: ("title", lambda raw, *_: clean_text(raw, limit=MAX_TITLE), None),
    ActivityForm.description: (
        "description",
        lambda raw, *_: clean_text(raw, limit=MAX_DESCRIPTION),
        None,
    ),
    ActivityForm.quantity: ("quantity", lambda raw, *_: parse_quantity(raw), None),
    ActivityForm.cso: ("cso", lambda raw, *_: parse_participants(raw), ActivityForm.council),
    ActivityForm.council: ("council", lambda raw, *_: parse_participants(raw), None),
    ActivityForm.co_organisers: (
        "co_organisers",
        lambda raw, *_: clean_text(raw, limit=MAX_TITLE * 2),
        None,
    ),
}


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


def _discard_question() -> tuple[str, InlineKeyboardMarkup]:
    return _("Discard this report? What you have entered will be lost."), discard_keyboard(
        ActivityCb(action="discard"), ActivityCb(action="resume")
    )


async def on_cancel_request(event: Message | CallbackQuery, state: FSMContext) -> None:
    await ask_to_discard(event, state, ActivityForm.cancel, *_discard_question())


async def on_discard(query: CallbackQuery, state: FSMContext) -> None:
    await discard(query, state, _("The report was discarded. Nothing was sent."))


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


async def _store(
    message: Message,
    state: FSMContext,
    plan: Plan,
    config: Settings,
    answered: State,
    raw: str,
) -> None:
    """Read an answer with its step's rule; store it and go on, or refuse and ask again."""
    field, read, then = _TYPED_STEPS[answered]
    try:
        value = read(raw, plan, _today(config))
    except InputError as e:
        await _refuse(message, state, plan, e)
        return
    draft = await _draft(state)
    setattr(draft, field, value)
    if then is not None:
        await _ask(message, state, then, draft, plan)
    else:
        await _advance(message, state, answered, draft, plan)


async def on_typed_answer(
    message: Message, state: FSMContext, plan: Plan, config: Settings, raw_state: str | None
) -> None:
    step = _STEP_BY_NAME.get(str(raw_state).split(":")[-1])
    if step in _TYPED_STEPS:
        await _store(message, state, plan, config, step, message.text or "")


async def on_quantity_button(
    query: CallbackQuery,
    callback_data: ActivityCb,
    state: FSMContext,
    plan: Plan,
    config: Settings,
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await drop_keyboard(query.message)
        await _store(
            query.message, state, plan, config, ActivityForm.quantity, callback_data.value
        )


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
    await answer(message, *_discard_question())


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
    members.message.register(on_typed_answer, StateFilter(*_TYPED_STEPS), F.text)
    members.callback_query.register(
        on_quantity_button,
        ActivityCb.filter(F.action == "quantity"),
        StateFilter(ActivityForm.quantity),
    )
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
