"""/events and /newevent: upcoming events, RSVPs with a waiting list, proposals and approval."""

from __future__ import annotations

import contextlib
import re
from datetime import datetime
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    User,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from db import Database
from db.events import EventRecord, NewEvent
from formats.ics import CalendarEvent, calendar
from handlers import commands
from handlers.activity_form import ActivityForm, Draft
from handlers.activity_form import prompt as activity_prompt
from handlers.dialogs import ask_to_discard, discard, discard_keyboard
from handlers.event_form import (
    MAX_DESCRIPTION,
    MAX_ORGANISER,
    MAX_PLACE,
    MAX_TITLE,
    EventCb,
    EventDraft,
    EventForm,
    EventMove,
    card_lines,
    clean,
    input_error,
    next_step,
    parse_capacity,
    parse_end,
    parse_measures,
    parse_when,
    prompt,
    when_text,
)
from handlers.reply import answer, drop_keyboard, show
from handlers.roles import (
    COORDINATOR,
    MEMBER,
    HasRole,
    ReportsForOrganisation,
    guard,
    refuse_non_coordinator,
)
from plan import Plan
from plan.validation import InputError
from scheduler import reminders
from scheduler.reminders import JobPlanner, ReportEventCb, Runtime

PAGE = 5
_STEP_BY_NAME = {s.state.split(":")[1]: s for s in EventForm.__all_states__ if s.state}
_PAYLOAD = re.compile(r"^event_(\d{1,12})$")


def now() -> datetime:
    return reminders.current_time()


def _runtime(db: Database, bot: Bot, i18n: I18n, config: Settings) -> Runtime:
    return Runtime(db, bot, i18n, config.timezone, config.reminder_hours)


async def _get(db: Database, event_id: int) -> EventRecord | None:
    async with db.read() as repo:
        return await repo.events.get(event_id)


async def _refresh(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit the card a button belongs to, after the query was answered."""
    if not isinstance(query.message, Message):
        return
    # The answer is recorded and the user was told in the alert: a card that cannot be edited
    # (unchanged, deleted, too old) is not worth failing over.
    with contextlib.suppress(TelegramBadRequest):
        await query.message.edit_text(text, reply_markup=markup)


# --- the list ---------------------------------------------------------------------------------


def _matches(event: EventRecord, plan: Plan, f: str) -> bool:
    kind, _sep, code = f.partition("-")
    if kind == "m":
        return code in event.measures
    if kind == "d":
        return any(
            (m := plan.measure(c)) is not None and m.direction_code == code for c in event.measures
        )
    return True


def list_view(
    events: list[EventRecord], plan: Plan, config: Settings, page: int, f: str
) -> tuple[str, InlineKeyboardMarkup]:
    shown = [e for e in events if _matches(e, plan, f)]
    pages = max(1, (len(shown) + PAGE - 1) // PAGE)
    page = min(max(page, 0), pages - 1)
    builder = InlineKeyboardBuilder()
    sizes: list[int] = []
    if not shown:
        text = _("No upcoming events yet.") if not f else _("No upcoming events for this choice.")
    else:
        lines = [_("<b>Upcoming events</b> (page {page} of {pages})").format(
            page=page + 1, pages=pages
        ), ""]  # fmt: skip
        for event in shown[page * PAGE : (page + 1) * PAGE]:
            places = f" · {event.going}/{event.capacity}" if event.capacity else ""
            lines.append(
                f"№{event.id} · {when_text(event.starts_at, event.ends_at, config.timezone)} · "
                f"{escape(event.title)}{places}"
            )
            builder.button(
                text=f"№{event.id} {event.title}"[:40],
                callback_data=EventCb(action="open", id=event.id),
            )
            sizes.append(1)
        text = "\n".join(lines)
    nav = 0
    if page > 0:
        builder.button(text="◀", callback_data=EventCb(action="list", page=page - 1, f=f))
        nav += 1
    if page < pages - 1:
        builder.button(text="▶", callback_data=EventCb(action="list", page=page + 1, f=f))
        nav += 1
    if nav:
        sizes.append(nav)
    builder.button(text=_("All"), callback_data=EventCb(action="list"))
    for direction in plan.directions:
        builder.button(
            text=_("Direction {code}").format(code=direction.code),
            callback_data=EventCb(action="list", f=f"d-{direction.code}"),
        )
    sizes.append(1 + len(plan.directions))
    builder.adjust(*sizes)
    return text, builder.as_markup()


async def cmd_events(
    message: Message, command: CommandObject, db: Database, plan: Plan, config: Settings
) -> None:
    f = ""
    if command.args:
        try:
            f = f"m-{parse_measures(command.args, plan)[0]}"
        except InputError as e:
            await answer(message, "⚠ " + input_error(e))
            return
    async with db.read() as repo:
        events = await repo.events.upcoming(now())
    await answer(message, *list_view(events, plan, config, 0, f))


async def on_list(
    query: CallbackQuery, callback_data: EventCb, db: Database, plan: Plan, config: Settings
) -> None:
    async with db.read() as repo:
        events = await repo.events.upcoming(now())
    await show(query, *list_view(events, plan, config, callback_data.page, callback_data.f))


# --- one event --------------------------------------------------------------------------------


async def card(
    db: Database, plan: Plan, config: Settings, event: EventRecord, user_id: int, role: str
) -> tuple[str, InlineKeyboardMarkup]:
    async with db.read() as repo:
        mine = await repo.events.attendance(event.id, user_id)
    lines = card_lines(event, plan, config.timezone)
    if mine == "going":
        lines += ["", _("✅ You are coming.")]
    elif mine == "waiting":
        lines += ["", _("⏳ You are on the waiting list.")]
    builder = InlineKeyboardBuilder()
    open_event = event.status == "approved" and event.ends_at > now()
    if open_event and mine is None:
        full = event.capacity is not None and event.going >= event.capacity
        if full:
            builder.button(
                text=_("⏳ Join the waiting list"),
                callback_data=EventCb(action="wait", id=event.id),
            )
        else:
            builder.button(text=_("✋ I'll come"), callback_data=EventCb(action="go", id=event.id))
    if open_event and mine is not None:
        builder.button(
            text=_("↩ I won't come"), callback_data=EventCb(action="leave", id=event.id)
        )
    if event.status == "approved":
        builder.button(
            text=_("📅 Add to calendar"), callback_data=EventCb(action="ics", id=event.id)
        )
    if role == COORDINATOR and open_event:
        builder.button(text=_("🕑 Move"), callback_data=EventCb(action="move", id=event.id))
        builder.button(
            text=_("❌ Cancel the event"), callback_data=EventCb(action="drop", id=event.id)
        )
    builder.button(text=_("◀ Events"), callback_data=EventCb(action="list"))
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def _visible(event: EventRecord | None, user_id: int, role: str) -> bool:
    if event is None:
        return False
    if event.status in ("approved", "cancelled"):
        return True
    return role == COORDINATOR or event.proposed_by == user_id


async def cmd_start_event(
    message: Message,
    command: CommandObject,
    db: Database,
    plan: Plan,
    config: Settings,
    role: str,
    event_from_user: User,
) -> None:
    """/start event_<id>: the link in a calendar entry or a shared message opens the card."""
    match = _PAYLOAD.match(command.args or "")
    event = await _get(db, int(match.group(1))) if match else None
    if event is None or not _visible(event, event_from_user.id, role):
        await answer(message, _("There is no such event. See /events."))
        return
    await answer(message, *await card(db, plan, config, event, event_from_user.id, role))


async def on_open(
    query: CallbackQuery,
    callback_data: EventCb,
    db: Database,
    plan: Plan,
    config: Settings,
    role: str,
    event_from_user: User,
) -> None:
    event = await _get(db, callback_data.id)
    if event is None or not _visible(event, event_from_user.id, role):
        await query.answer(_("There is no such event. See /events."), show_alert=True)
        return
    await show(query, *await card(db, plan, config, event, event_from_user.id, role))


def _closed(event: EventRecord | None) -> str | None:
    """Why nobody can answer for this event now, or None."""
    if event is None or event.status in ("pending", "rejected"):
        return _("There is no such event. See /events.")
    if event.status == "cancelled":
        return _("This event was cancelled.")
    if event.ends_at <= now():
        return _("This event is over.")
    return None


async def on_attend(
    query: CallbackQuery,
    callback_data: EventCb,
    db: Database,
    plan: Plan,
    config: Settings,
    role: str,
    event_from_user: User,
) -> None:
    """ "I'll come" or "join the waiting list": only ever for the user who pressed."""
    refusal = _closed(await _get(db, callback_data.id))
    if refusal is not None:
        await query.answer(refusal, show_alert=True)
        return
    async with db.transaction() as repo:
        result = await repo.events.attend(
            callback_data.id, event_from_user.id, now(), wait=callback_data.action == "wait"
        )
        event = await repo.events.get(callback_data.id)
    assert event is not None
    if result.status is None:
        await query.answer(
            _("No places are left. You can join the waiting list."), show_alert=True
        )
    elif not result.changed:
        await query.answer(_("You have already answered."))
    elif result.status == "going":
        await query.answer(_("See you there! I will remind you before it starts."))
    else:
        await query.answer(_("You are on the waiting list: I will tell you if a place frees up."))
    await _refresh(query, *await card(db, plan, config, event, event_from_user.id, role))


async def on_leave(
    query: CallbackQuery,
    callback_data: EventCb,
    db: Database,
    plan: Plan,
    bot: Bot,
    i18n: I18n,
    config: Settings,
    role: str,
    event_from_user: User,
) -> None:
    refusal = _closed(await _get(db, callback_data.id))
    if refusal is not None:
        await query.answer(refusal, show_alert=True)
        return
    async with db.transaction() as repo:
        result = await repo.events.leave(callback_data.id, event_from_user.id)
        event = await repo.events.get(callback_data.id)
    assert event is not None
    await query.answer(
        _("Your answer is withdrawn.") if result.changed else _("You were not on the list.")
    )
    await _refresh(query, *await card(db, plan, config, event, event_from_user.id, role))
    if result.promoted is not None:

        def promoted_text() -> str:
            return _("🎉 A place freed up: you are now coming to «{title}» ({when}).").format(
                title=escape(event.title),
                when=when_text(event.starts_at, event.ends_at, config.timezone),
            )

        await reminders.tell(_runtime(db, bot, i18n, config), [result.promoted], promoted_text)


async def on_ics(
    query: CallbackQuery, callback_data: EventCb, db: Database, bot: Bot, config: Settings
) -> None:
    event = await _get(db, callback_data.id)
    if event is None or event.status != "approved" or query.message is None:
        await query.answer(_("There is no such event. See /events."), show_alert=True)
        return
    me = await bot.me()
    link = f"https://t.me/{me.username}?start=event_{event.id}" if me.username else ""
    text = calendar(
        CalendarEvent(
            uid=f"event-{event.id}@{me.username or me.id}.t.me",
            title=event.title,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            location=event.place,
            description=event.description,
            url=link,
        ),
        now(),
    )
    await query.answer()
    await bot.send_document(
        query.message.chat.id,
        BufferedInputFile(text.encode("utf-8"), filename=f"event-{event.id}.ics"),
        caption=_("«{title}»: open the file to add it to your calendar.").format(
            title=escape(event.title)
        ),
    )


# --- proposing an event -----------------------------------------------------------------------


async def _ask(
    message: Message,
    state: FSMContext,
    step: State,
    draft: EventDraft,
    plan: Plan,
    config: Settings,
) -> None:
    data = await state.get_data()
    data.update(draft.dump())
    await state.set_state(step)
    await state.set_data(data)
    await answer(message, *prompt(step, draft, plan, config.timezone, data.get("org_name")))


async def _advance(
    message: Message,
    state: FSMContext,
    after: State,
    draft: EventDraft,
    plan: Plan,
    config: Settings,
) -> None:
    step = next_step(after, draft)
    if step == EventForm.confirm:
        draft.editing = False
    await _ask(message, state, step, draft, plan, config)


async def _draft(state: FSMContext) -> EventDraft:
    return EventDraft.load(await state.get_data())


async def _step(state: FSMContext) -> State:
    current = await state.get_state()
    return _STEP_BY_NAME.get(str(current).split(":")[-1], EventForm.title)


async def _refuse(
    message: Message, state: FSMContext, plan: Plan, config: Settings, error: InputError
) -> None:
    """Say what was wrong and ask the same question again; nothing entered so far is lost."""
    await answer(message, "⚠ " + input_error(error))
    data = await state.get_data()
    step = await _step(state)
    await answer(
        message, *prompt(step, EventDraft.load(data), plan, config.timezone, data.get("org_name"))
    )


async def cmd_newevent(
    message: Message,
    state: FSMContext,
    db: Database,
    plan: Plan,
    config: Settings,
    organisation_id: int | None,
) -> None:
    name = None
    if organisation_id is not None:
        async with db.read() as repo:
            organisation = await repo.organisations.get(organisation_id)
        name = organisation.name if organisation else None
    await state.set_state(None)
    await state.set_data({"org_name": name, "org_id": organisation_id})
    await _ask(message, state, EventForm.title, EventDraft(), plan, config)


async def on_text(message: Message, state: FSMContext, plan: Plan, config: Settings) -> None:
    """Every typed answer of the dialog, checked by the rule of the step it answers."""
    assert message.text is not None
    step = await _step(state)
    draft = await _draft(state)
    tz = config.timezone
    try:
        if step == EventForm.title:
            draft.title = clean(message.text, MAX_TITLE)
        elif step == EventForm.starts:
            draft.starts = parse_when(message.text, tz, now()).isoformat()
        elif step == EventForm.ends:
            if draft.starts is None:
                step = EventForm.title
            else:
                starts = datetime.fromisoformat(draft.starts)
                draft.ends = parse_end(message.text, starts, tz, now()).isoformat()
        elif step == EventForm.place:
            draft.place = clean(message.text, MAX_PLACE)
        elif step == EventForm.organiser:
            draft.organiser, draft.organisation_id = clean(message.text, MAX_ORGANISER), None
        elif step == EventForm.measures:
            draft.measures = parse_measures(message.text, plan)
        elif step == EventForm.description:
            draft.description = clean(message.text, MAX_DESCRIPTION)
        elif step == EventForm.capacity:
            draft.capacity = parse_capacity(message.text)
        else:
            await answer(message, _("Please use the buttons above, or /cancel."))
            return
    except InputError as e:
        await _refuse(message, state, plan, config, e)
        return
    await _advance(message, state, step, draft, plan, config)


async def on_own_organisation(
    query: CallbackQuery, state: FSMContext, plan: Plan, config: Settings
) -> None:
    await query.answer()
    data = await state.get_data()
    if not data.get("org_name") or not isinstance(query.message, Message):
        return
    draft = EventDraft.load(data)
    draft.organiser, draft.organisation_id = data["org_name"], data.get("org_id")
    await drop_keyboard(query.message)
    await _advance(query.message, state, EventForm.organiser, draft, plan, config)


async def on_skip(query: CallbackQuery, state: FSMContext, plan: Plan, config: Settings) -> None:
    await query.answer()
    step = await _step(state)
    if step not in (EventForm.description, EventForm.capacity):
        return
    if not isinstance(query.message, Message):
        return
    draft = await _draft(state)
    if step == EventForm.description:
        draft.description = ""
    else:
        draft.capacity = None
    await drop_keyboard(query.message)
    await _advance(query.message, state, step, draft, plan, config)


async def on_edit(
    query: CallbackQuery, callback_data: EventCb, state: FSMContext, plan: Plan, config: Settings
) -> None:
    await query.answer()
    step = _STEP_BY_NAME.get(callback_data.f)
    if step is None or step in (EventForm.confirm, EventForm.cancel):
        return
    if not isinstance(query.message, Message):
        return
    draft = await _draft(state)
    draft.editing = True
    await drop_keyboard(query.message)
    await _ask(query.message, state, step, draft, plan, config)


async def on_cancel_request(event: Message | CallbackQuery, state: FSMContext) -> None:
    await ask_to_discard(
        event,
        state,
        EventForm.cancel,
        _("Discard this event? What you have entered will be lost."),
        discard_keyboard(EventCb(action="f_discard"), EventCb(action="f_resume")),
    )


async def on_discard(query: CallbackQuery, state: FSMContext) -> None:
    await discard(query, state, _("The event was discarded. Nothing was published."))


async def on_resume(query: CallbackQuery, state: FSMContext, plan: Plan, config: Settings) -> None:
    data = await state.get_data()
    resume = _STEP_BY_NAME.get(str(data.pop("resume", "")).split(":")[-1], EventForm.title)
    await state.set_data(data)
    await query.answer()
    if isinstance(query.message, Message):
        await drop_keyboard(query.message)
        await _ask(query.message, state, resume, EventDraft.load(data), plan, config)


def _first_missing(draft: EventDraft) -> State | None:
    for step, value in (
        (EventForm.title, draft.title),
        (EventForm.starts, draft.starts),
        (EventForm.ends, draft.ends),
        (EventForm.place, draft.place),
        (EventForm.organiser, draft.organiser),
        (EventForm.measures, draft.measures),
    ):
        if not value:
            return step
    return None


async def coordinator_ids(db: Database, config: Settings) -> list[int]:
    async with db.read() as repo:
        return sorted(set(config.coordinator_ids) | set(await repo.coordinators.all()))


async def on_submit(
    query: CallbackQuery,
    state: FSMContext,
    db: Database,
    plan: Plan,
    bot: Bot,
    config: Settings,
    scheduler: JobPlanner,
    role: str,
    event_from_user: User,
) -> None:
    draft = await _draft(state)
    if not isinstance(query.message, Message):
        await query.answer()
        return
    missing = _first_missing(draft)
    moment = now()
    if missing is None and datetime.fromisoformat(draft.starts or "") <= moment:
        missing = EventForm.starts
        await answer(query.message, "⚠ " + input_error(InputError("when_past")))
    if missing is not None:
        await query.answer()
        draft.editing = True
        await _ask(query.message, state, missing, draft, plan, config)
        return
    assert draft.title and draft.starts and draft.ends and draft.place and draft.organiser
    coordinator = role == COORDINATOR
    new = NewEvent(
        title=draft.title,
        starts_at=datetime.fromisoformat(draft.starts),
        ends_at=datetime.fromisoformat(draft.ends),
        place=draft.place,
        organiser=draft.organiser,
        organisation_id=draft.organisation_id,
        measures=tuple(draft.measures),
        description=draft.description,
        capacity=draft.capacity,
        status="approved" if coordinator else "pending",
        proposed_by=None if coordinator else event_from_user.id,
        created_by=event_from_user.id,
    )
    async with db.transaction() as repo:
        event_id = await repo.events.create(new, moment)
        event = await repo.events.get(event_id)
    assert event is not None
    await state.clear()
    await query.answer()
    await drop_keyboard(query.message)
    if coordinator:
        reminders.plan_reminder(scheduler, event, config.reminder_hours, moment)
        await answer(
            query.message, _("✅ Event №{id} is published: see /events.").format(id=event_id)
        )
        return
    await answer(
        query.message,
        _(
            "✅ Event №{id} was sent to the coordinators for approval. "
            "I will tell you the outcome."
        ).format(id=event_id),
    )
    await announce_proposal(bot, db, plan, config, event)


async def announce_proposal(
    bot: Bot, db: Database, plan: Plan, config: Settings, event: EventRecord
) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Approve"), callback_data=EventCb(action="approve", id=event.id))
    builder.button(text=_("✖ Reject"), callback_data=EventCb(action="reject", id=event.id))
    text = "\n".join(
        [_("<b>A proposed event</b> to approve:"), "", *card_lines(event, plan, config.timezone)]
    )
    for coordinator in await coordinator_ids(db, config):
        with contextlib.suppress(TelegramAPIError):
            await bot.send_message(coordinator, text, reply_markup=builder.as_markup())


async def on_not_member(message: Message) -> None:
    await answer(
        message,
        _(
            "Events and projects are added on behalf of a registered organisation. Register "
            "yours or ask to join it with /register."
        ),
    )


# --- coordinators -----------------------------------------------------------------------------


async def on_decide(
    query: CallbackQuery,
    callback_data: EventCb,
    db: Database,
    bot: Bot,
    i18n: I18n,
    config: Settings,
    scheduler: JobPlanner,
) -> None:
    approve = callback_data.action == "approve"
    async with db.transaction() as repo:
        changed = await repo.events.decide(callback_data.id, approve=approve)
        event = await repo.events.get(callback_data.id)
    if event is None or not changed:
        await query.answer(_("This event was already decided."), show_alert=True)
        return
    await query.answer(_("Approved.") if approve else _("Rejected."))
    if isinstance(query.message, Message):
        await drop_keyboard(query.message)
    if approve:
        reminders.plan_reminder(scheduler, event, config.reminder_hours, now())
    if event.proposed_by is None:
        return

    def outcome() -> str:
        if approve:
            return _("✅ Your event «{title}» was approved and is now in /events.").format(
                title=escape(event.title)
            )
        return _("Your event «{title}» was not approved.").format(title=escape(event.title))

    await reminders.tell(_runtime(db, bot, i18n, config), [event.proposed_by], outcome)


async def on_drop_request(query: CallbackQuery, callback_data: EventCb, db: Database) -> None:
    event = await _get(db, callback_data.id)
    refusal = _closed(event)
    if refusal is not None or event is None:
        await query.answer(refusal, show_alert=True)
        return
    await query.answer()
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Yes, cancel the event"), callback_data=EventCb(action="drop_yes", id=event.id)
    )
    builder.button(text=_("No, keep it"), callback_data=EventCb(action="open", id=event.id))
    builder.adjust(1)
    await _refresh(
        query,
        _("Cancel «{title}»? Everyone who answered will be told.").format(
            title=escape(event.title)
        ),
        builder.as_markup(),
    )


async def on_drop(
    query: CallbackQuery,
    callback_data: EventCb,
    db: Database,
    bot: Bot,
    i18n: I18n,
    config: Settings,
    scheduler: JobPlanner,
) -> None:
    async with db.transaction() as repo:
        cancelled = await repo.events.cancel(callback_data.id)
        event = await repo.events.get(callback_data.id)
        people = await repo.events.everyone(callback_data.id)
    if event is None or not cancelled:
        await query.answer(_("This event cannot be cancelled now."), show_alert=True)
        return
    reminders.forget_reminder(scheduler, event.id)
    await query.answer()

    def notice() -> str:
        return _("❌ «{title}» ({when}) is cancelled.").format(
            title=escape(event.title),
            when=when_text(event.starts_at, event.ends_at, config.timezone),
        )

    told = await reminders.tell(_runtime(db, bot, i18n, config), people, notice)
    await _refresh(query, _("The event is cancelled; {n} people were told.").format(n=told))


async def on_move_request(
    query: CallbackQuery, callback_data: EventCb, state: FSMContext, db: Database
) -> None:
    event = await _get(db, callback_data.id)
    refusal = _closed(event)
    if refusal is not None or event is None or not isinstance(query.message, Message):
        await query.answer(refusal, show_alert=True)
        return
    await query.answer()
    await state.set_state(EventMove.starts)
    await state.set_data({"move_id": event.id})
    await answer(
        query.message,
        _(
            "New start of «{title}»? <code>ДД.ММ.РРРР ГГ:ХХ</code>; /cancel to keep it as it is."
        ).format(title=escape(event.title)),
    )


async def on_move_starts(message: Message, state: FSMContext, config: Settings) -> None:
    try:
        starts = parse_when(message.text or "", config.timezone, now())
    except InputError as e:
        await answer(message, "⚠ " + input_error(e))
        return
    data = await state.get_data()
    data["starts"] = starts.isoformat()
    await state.set_state(EventMove.ends)
    await state.set_data(data)
    await answer(
        message,
        _(
            "And the new end? <code>ДД.ММ.РРРР ГГ:ХХ</code>, or just <code>ГГ:ХХ</code> "
            "on the same day."
        ),
    )


async def on_move_ends(
    message: Message,
    state: FSMContext,
    db: Database,
    bot: Bot,
    i18n: I18n,
    config: Settings,
    scheduler: JobPlanner,
) -> None:
    data = await state.get_data()
    starts = datetime.fromisoformat(data["starts"])
    try:
        ends = parse_end(message.text or "", starts, config.timezone, now())
    except InputError as e:
        await answer(message, "⚠ " + input_error(e))
        return
    await state.clear()
    async with db.transaction() as repo:
        moved = await repo.events.move(int(data["move_id"]), starts, ends)
        event = await repo.events.get(int(data["move_id"]))
        people = await repo.events.everyone(int(data["move_id"]))
    if event is None or not moved:
        await answer(message, _("This event cannot be moved now."))
        return
    reminders.plan_reminder(scheduler, event, config.reminder_hours, now())

    def notice() -> str:
        return _("🕑 «{title}» is moved: now {when}.").format(
            title=escape(event.title),
            when=when_text(event.starts_at, event.ends_at, config.timezone),
        )

    told = await reminders.tell(_runtime(db, bot, i18n, config), people, notice)
    await answer(message, _("The event is moved; {n} people were told.").format(n=told))


async def on_move_cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await answer(message, _("Nothing was changed."))


# --- after the event --------------------------------------------------------------------------


async def on_report_event(
    query: CallbackQuery,
    callback_data: ReportEventCb,
    state: FSMContext,
    db: Database,
    plan: Plan,
    config: Settings,
    event_from_user: User,
) -> None:
    """Open the activity report filled in from the event; the organiser checks and sends it."""
    event = await _get(db, callback_data.event_id)
    if (
        event is None
        or event.proposed_by != event_from_user.id
        or not isinstance(query.message, Message)
    ):
        await query.answer(_("There is no such event among yours."), show_alert=True)
        return
    await query.answer()
    draft = Draft(
        measure=event.measures[0] if event.measures else None,
        date=event.starts_at.astimezone(config.timezone).date().isoformat(),
        title=event.title,
        description=event.description,
    )
    measure = plan.measure(draft.measure or "")
    if measure is not None and len(measure.indicators) == 1:
        indicator = measure.indicators[0]
        draft.indicator = indicator.id
        if indicator.kind == "count":
            draft.quantity = (event.going or 1) if indicator.counts_people else 1
        elif indicator.kind == "milestone":
            draft.quantity = 1
        if indicator.min_participants is not None:
            draft.cso = event.going
    step = ActivityForm.measure if measure is None else ActivityForm.indicator
    if draft.indicator is not None:
        step = ActivityForm.confirm
    draft.editing = True
    await state.set_state(step)
    await state.set_data(draft.dump())
    await drop_keyboard(query.message)
    await answer(
        query.message,
        _("Coming according to the bot: {n}. Check the report and send it.").format(n=event.going),
    )
    await answer(query.message, *activity_prompt(step, draft, plan))


# --- the router -------------------------------------------------------------------------------


def build_router() -> Router:
    router = Router(name=__name__)

    coordinators = Router(name=f"{__name__}.coordinators")
    guard(coordinators, HasRole(COORDINATOR))
    coordinators.callback_query.register(
        on_decide, EventCb.filter(F.action.in_({"approve", "reject"}))
    )
    coordinators.callback_query.register(on_drop_request, EventCb.filter(F.action == "drop"))
    coordinators.callback_query.register(on_drop, EventCb.filter(F.action == "drop_yes"))
    coordinators.callback_query.register(on_move_request, EventCb.filter(F.action == "move"))
    moving = StateFilter(EventMove.starts, EventMove.ends)
    coordinators.message.register(on_move_cancel, commands.CANCEL.filter, moving)
    coordinators.message.register(
        on_move_starts, StateFilter(EventMove.starts), ~F.text.startswith("/")
    )
    coordinators.message.register(
        on_move_ends, StateFilter(EventMove.ends), ~F.text.startswith("/")
    )

    # Everyone else pressing a coordinator's button: a refusal, and nothing changes.
    others = Router(name=f"{__name__}.others")
    others.callback_query.register(
        refuse_non_coordinator,
        EventCb.filter(F.action.in_({"approve", "reject", "drop", "drop_yes", "move"})),
    )

    proposers = Router(name=f"{__name__}.proposers")
    guard(proposers, HasRole(MEMBER, COORDINATOR))
    in_form = StateFilter(*[s for s in EventForm.__all_states__ if s != EventForm.cancel])
    proposers.message.register(cmd_newevent, commands.NEWEVENT.filter)
    proposers.message.register(on_cancel_request, commands.CANCEL.filter, in_form)
    proposers.callback_query.register(
        on_cancel_request, EventCb.filter(F.action == "f_cancel"), in_form
    )
    proposers.callback_query.register(
        on_discard, EventCb.filter(F.action == "f_discard"), StateFilter(EventForm.cancel)
    )
    proposers.callback_query.register(
        on_resume, EventCb.filter(F.action == "f_resume"), StateFilter(EventForm.cancel)
    )
    proposers.callback_query.register(
        on_own_organisation, EventCb.filter(F.action == "f_org"), StateFilter(EventForm.organiser)
    )
    proposers.callback_query.register(on_skip, EventCb.filter(F.action == "f_skip"), in_form)
    proposers.callback_query.register(
        on_edit, EventCb.filter(F.action == "f_edit"), StateFilter(EventForm.confirm)
    )
    proposers.callback_query.register(
        on_submit, EventCb.filter(F.action == "f_submit"), StateFilter(EventForm.confirm)
    )
    proposers.message.register(on_text, in_form, F.text, ~F.text.startswith("/"))

    reporters = Router(name=f"{__name__}.reporters")
    guard(reporters, ReportsForOrganisation())
    reporters.callback_query.register(on_report_event, ReportEventCb.filter())

    guests = Router(name=f"{__name__}.guests")
    guests.message.register(on_not_member, commands.NEWEVENT.filter)

    everyone = Router(name=f"{__name__}.everyone")
    everyone.message.register(cmd_events, commands.EVENTS.filter)
    everyone.callback_query.register(on_list, EventCb.filter(F.action == "list"))
    everyone.callback_query.register(on_open, EventCb.filter(F.action == "open"))
    everyone.callback_query.register(on_attend, EventCb.filter(F.action.in_({"go", "wait"})))
    everyone.callback_query.register(on_leave, EventCb.filter(F.action == "leave"))
    everyone.callback_query.register(on_ics, EventCb.filter(F.action == "ics"))

    router.include_routers(coordinators, others, proposers, reporters, guests, everyone)
    return router
