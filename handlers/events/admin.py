"""Coordinators and events: approving proposals, cancelling and moving, telling those affected."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from db import Database, Repositories
from db.events import EventRecord
from handlers.dialog import enter
from handlers.events.callbacks import EventAction, EventCb
from handlers.events.keyboards import cancel_confirmation, decision_keyboard
from handlers.events.parsing import parse_end, parse_when
from handlers.events.views import card_lines, closed, get_event, refresh, when_text
from handlers.forms.errors import refusal
from handlers.reply import answer, drop_keyboard
from plan import Plan
from plan.clock import Clock
from plan.validation import InputError
from scheduler.notifier import Compose, Composed, Notifier
from scheduler.reminders import ReminderPlanner


class EventMove(StatesGroup):
    starts = State()
    ends = State()


async def announce_proposal(
    repo: Repositories,
    plan: Plan,
    clock: Clock,
    coordinators: list[int],
    notifier: Notifier,
    event: EventRecord,
) -> list[int]:
    """Record, in the proposal's own transaction, the card every coordinator gets with its
    approve and reject buttons; the outbox ids to deliver once it commits."""
    return await notifier.enqueue(
        repo,
        coordinators,
        lambda: proposal_card(event, plan, clock),
        "event proposal",
        subject=proposal_subject(event.id),
    )


def proposal_subject(event_id: int) -> str:
    """What a proposal's cards are about, to take their buttons away once it is decided."""
    return f"event:{event_id}"


def proposal_card(event: EventRecord, plan: Plan, clock: Clock) -> Composed:
    """A proposal as coordinators see it (notified, and in /pending), with its buttons."""
    text = "\n".join(
        [_("<b>A proposed event</b> to approve:"), "", *card_lines(event, plan, clock)]
    )
    return text, decision_keyboard(event.id)


async def on_decide(
    query: CallbackQuery,
    callback_data: EventCb,
    db: Database,
    bot: Bot,
    reminders: ReminderPlanner,
    notifier: Notifier,
) -> None:
    approve = callback_data.action == EventAction.approve
    told: list[int] = []
    async with db.transaction() as repo:
        changed = await repo.events.decide(callback_data.id, approve=approve)
        event = await repo.events.get(callback_data.id)
        if event is not None and changed and event.proposed_by is not None:
            told = await notifier.enqueue(
                repo, [event.proposed_by], _outcome(event, approve), "event decision"
            )
    if event is None or not changed:
        await query.answer(_("This event was already decided."), show_alert=True)
        return
    await query.answer(_("Approved.") if approve else _("Rejected."))
    if isinstance(query.message, Message):
        await drop_keyboard(query.message)
    if approve:
        reminders.plan(event)
    await notifier.deliver(bot, told)
    pressed = query.message
    keep = (pressed.chat.id, pressed.message_id) if isinstance(pressed, Message) else None
    await notifier.retire(bot, proposal_subject(event.id), keep)


def _outcome(event: EventRecord, approve: bool) -> Callable[[], str]:
    def outcome() -> str:
        if approve:
            return _("✅ Your event «{title}» was approved and is now in /events.").format(
                title=escape(event.title)
            )
        return _("Your event «{title}» was not approved.").format(title=escape(event.title))

    return outcome


def _changed(event: EventRecord, clock: Clock, text: Callable[[], str]) -> Compose:
    """The notice of a change to an event, in each reader's language."""

    def notice() -> str:
        return text().format(
            title=escape(event.title),
            when=when_text(event.starts_at, event.ends_at, clock),
        )

    return notice


async def on_drop_request(
    query: CallbackQuery, callback_data: EventCb, db: Database, clock: Clock
) -> None:
    event = await get_event(db, callback_data.id)
    why_not = closed(event, clock.now())
    if why_not is not None or event is None:
        await query.answer(why_not, show_alert=True)
        return
    await query.answer()
    await refresh(
        query,
        _("Cancel «{title}»? Everyone who answered will be told.").format(
            title=escape(event.title)
        ),
        cancel_confirmation(event.id),
    )


async def on_drop(
    query: CallbackQuery,
    callback_data: EventCb,
    db: Database,
    bot: Bot,
    clock: Clock,
    reminders: ReminderPlanner,
    notifier: Notifier,
) -> None:
    ids: list[int] = []
    async with db.transaction() as repo:
        cancelled = await repo.events.cancel(callback_data.id)
        event = await repo.events.get(callback_data.id)
        people = await repo.events.everyone(callback_data.id)
        if event is not None and cancelled:
            notice = _changed(event, clock, lambda: _("❌ «{title}» ({when}) is cancelled."))
            ids = await notifier.enqueue(repo, people, notice, "event cancelled")
    if event is None or not cancelled:
        await query.answer(_("This event cannot be cancelled now."), show_alert=True)
        return
    reminders.forget(event.id)
    await query.answer()
    told = await notifier.deliver(bot, ids)
    await refresh(
        query,
        ngettext(
            "The event is cancelled; {n} person was told.",
            "The event is cancelled; {n} people were told.",
            len(told),
        ).format(n=len(told)),
    )


async def on_move_request(
    query: CallbackQuery, callback_data: EventCb, state: FSMContext, db: Database, clock: Clock
) -> None:
    event = await get_event(db, callback_data.id)
    why_not = closed(event, clock.now())
    if why_not is not None or event is None or not isinstance(query.message, Message):
        await query.answer(why_not, show_alert=True)
        return
    await query.answer()
    await enter(state, EventMove.starts, {"move_id": event.id})
    await answer(
        query.message,
        _(
            "New start of «{title}»? <code>ДД.ММ.РРРР ГГ:ХХ</code>; /cancel to keep it as it is."
        ).format(title=escape(event.title)),
    )


async def on_move_starts(message: Message, state: FSMContext, clock: Clock) -> None:
    try:
        starts = parse_when(message.text or "", clock.timezone, clock.now())
    except InputError as e:
        await answer(message, "⚠ " + refusal(e))
        return
    data = await state.get_data()
    data["starts"] = starts.isoformat()
    await enter(state, EventMove.ends, data)
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
    clock: Clock,
    reminders: ReminderPlanner,
    notifier: Notifier,
) -> None:
    data = await state.get_data()
    starts = datetime.fromisoformat(data["starts"])
    try:
        ends = parse_end(message.text or "", starts, clock.timezone, clock.now())
    except InputError as e:
        await answer(message, "⚠ " + refusal(e))
        return
    await state.clear()
    ids: list[int] = []
    async with db.transaction() as repo:
        moved = await repo.events.move(int(data["move_id"]), starts, ends)
        event = await repo.events.get(int(data["move_id"]))
        people = await repo.events.everyone(int(data["move_id"]))
        if event is not None and moved:
            notice = _changed(event, clock, lambda: _("🕑 «{title}» is moved: now {when}."))
            ids = await notifier.enqueue(repo, people, notice, "event moved")
    if event is None or not moved:
        await answer(message, _("This event cannot be moved now."))
        return
    reminders.plan(event)
    told = await notifier.deliver(bot, ids)
    await answer(
        message,
        ngettext(
            "The event is moved; {n} person was told.",
            "The event is moved; {n} people were told.",
            len(told),
        ).format(n=len(told)),
    )


async def on_move_cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await answer(message, _("Nothing was changed."))
