"""Answering an event: "I'll come" with a capacity and a waiting list, withdrawing, the .ics."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from aiogram import Bot
from aiogram.types import BufferedInputFile, CallbackQuery, User
from aiogram.utils.i18n import gettext as _

from db import Database
from db.events import EventRecord
from formats.ics import CalendarEvent, calendar
from handlers.events.browse import card
from handlers.events.callbacks import EventAction, EventCb
from handlers.events.views import closed, get_event, refresh, when_text
from handlers.reply import preparing
from plan import Plan
from plan.clock import Clock
from scheduler.notifier import Notifier


async def _still_open(query: CallbackQuery, db: Database, clock: Clock, event_id: int) -> bool:
    """Whether the event can still be answered; if not, the presser is told why."""
    refusal = closed(await get_event(db, event_id), clock.now())
    if refusal is not None:
        await query.answer(refusal, show_alert=True)
    return refusal is None


async def on_attend(
    query: CallbackQuery,
    callback_data: EventCb,
    db: Database,
    plan: Plan,
    clock: Clock,
    role: str,
    event_from_user: User,
) -> None:
    """ "I'll come" or "join the waiting list": only ever for the user who pressed."""
    if not await _still_open(query, db, clock, callback_data.id):
        return
    async with db.transaction() as repo:
        result = await repo.events.attend(
            callback_data.id,
            event_from_user.id,
            clock.now(),
            wait=callback_data.action == EventAction.wait,
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
    await refresh(
        query, *await card(db, plan, clock, event, event_from_user.id, role, result.status)
    )


async def on_leave(
    query: CallbackQuery,
    callback_data: EventCb,
    db: Database,
    plan: Plan,
    bot: Bot,
    clock: Clock,
    notifier: Notifier,
    role: str,
    event_from_user: User,
) -> None:
    if not await _still_open(query, db, clock, callback_data.id):
        return
    told: list[int] = []
    async with db.transaction() as repo:
        result = await repo.events.leave(callback_data.id, event_from_user.id)
        event = await repo.events.get(callback_data.id)
        if result.promoted is not None and event is not None:
            # The place and its news are one change: the outbox is written with it.
            told = await notifier.enqueue(
                repo, [result.promoted], _promoted(event, clock), "waiting list"
            )
    assert event is not None
    await query.answer(
        _("Your answer is withdrawn.") if result.changed else _("You were not on the list.")
    )
    await refresh(query, *await card(db, plan, clock, event, event_from_user.id, role, None))
    await notifier.deliver(bot, told)


def _promoted(event: EventRecord, clock: Clock) -> Callable[[], str]:
    def promoted_text() -> str:
        return _("🎉 A place freed up: you are now coming to «{title}» ({when}).").format(
            title=escape(event.title),
            when=when_text(event.starts_at, event.ends_at, clock),
        )

    return promoted_text


async def on_ics(
    query: CallbackQuery, callback_data: EventCb, db: Database, bot: Bot, clock: Clock
) -> None:
    event = await get_event(db, callback_data.id)
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
        clock.now(),
    )
    await query.answer()
    async with preparing(bot, query.message.chat.id):
        await bot.send_document(
            query.message.chat.id,
            BufferedInputFile(text.encode("utf-8"), filename=f"event-{event.id}.ics"),
            caption=_("«{title}»: open the file to add it to your calendar.").format(
                title=escape(event.title)
            ),
        )
