"""/events: the upcoming events page by page, by direction or measure, and one event's card."""

from __future__ import annotations

import re
from html import escape

from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import gettext as _

from db import Database
from db.events import EventRecord
from handlers.events.callbacks import EventCb
from handlers.events.keyboards import card_keyboard, list_keyboard
from handlers.events.views import card_lines, visible, when_text, who_is_coming
from handlers.forms.errors import refusal
from handlers.forms.measures import parse_measures
from handlers.reply import answer, show
from handlers.roles import COORDINATOR
from plan import Plan
from plan.clock import Clock
from plan.validation import InputError

PAGE = 5
_PAYLOAD = re.compile(r"^event_(\d{1,12})$")


def _matches(event: EventRecord, plan: Plan, f: str) -> bool:
    kind, _sep, code = f.partition("-")
    if kind == "m":
        return code in event.measures
    if kind == "d":
        return any(
            (m := plan.measure(c)) is not None and m.direction_code == code for c in event.measures
        )
    return True


def filter_name(f: str) -> str:
    """The choice a list is filtered by, as the list's heading names it."""
    kind, _sep, code = f.partition("-")
    if kind == "m":
        return _("measure {code}").format(code=code)
    return _("direction {code}").format(code=code)


def list_view(
    events: list[EventRecord], plan: Plan, clock: Clock, page: int, f: str
) -> tuple[str, InlineKeyboardMarkup]:
    shown = [e for e in events if _matches(e, plan, f)]
    pages = max(1, (len(shown) + PAGE - 1) // PAGE)
    page = min(max(page, 0), pages - 1)
    on_page = shown[page * PAGE : (page + 1) * PAGE]
    # The choice the list is filtered by is named, as its button is marked.
    chosen = [_("Shown: {choice}").format(choice=filter_name(f))] if f else []
    if not shown:
        empty = _("No upcoming events yet.") if not f else _("No upcoming events for this choice.")
        text = "\n".join([empty, *chosen])
    else:
        lines = [_("<b>Upcoming events</b> (page {page} of {pages})").format(
            page=page + 1, pages=pages
        ), *chosen, ""]  # fmt: skip
        for event in on_page:
            places = f" · {event.going}/{event.capacity}" if event.capacity else ""
            lines.append(
                f"№{event.id} · {when_text(event.starts_at, event.ends_at, clock)} · "
                f"{escape(event.title)}{places}"
            )
        text = "\n".join(lines)
    return text, list_keyboard(plan, on_page, page, pages, f)


async def cmd_events(
    message: Message, command: CommandObject, db: Database, plan: Plan, clock: Clock
) -> None:
    f = ""
    if command.args:
        try:
            f = f"m-{parse_measures(command.args, plan)[0]}"
        except InputError as e:
            await answer(message, "⚠ " + refusal(e))
            return
    async with db.read() as repo:
        events = await repo.events.upcoming(clock.now())
    await answer(message, *list_view(events, plan, clock, 0, f))


async def on_list(
    query: CallbackQuery, callback_data: EventCb, db: Database, plan: Plan, clock: Clock
) -> None:
    async with db.read() as repo:
        events = await repo.events.upcoming(clock.now())
    await show(query, *list_view(events, plan, clock, callback_data.page, callback_data.f))


UNREAD = "?"  # `card` was not told the user's answer: it reads it


async def card(
    db: Database,
    plan: Plan,
    clock: Clock,
    event: EventRecord,
    user_id: int,
    role: str,
    mine: str | None = UNREAD,
) -> tuple[str, InlineKeyboardMarkup]:
    """One event as this user sees it, with what they may do about it; `mine`, the user's
    answer when the caller read it already (with the event, or by answering)."""
    organises = role == COORDINATOR or user_id in (event.proposed_by, event.created_by)
    if mine == UNREAD or organises:
        async with db.read() as repo:
            if mine == UNREAD:
                mine = await repo.events.attendance(event.id, user_id)
            if organises:
                going = await repo.events.attendees(event.id, "going")
                waiting = await repo.events.attendees(event.id, "waiting")
                people = await repo.users.people([*going, *waiting])
    lines = card_lines(event, plan, clock)
    if organises:
        lines += ["", *who_is_coming([people[u] for u in going], [people[u] for u in waiting])]
    if mine == "going":
        lines += ["", _("✅ You are coming.")]
    elif mine == "waiting":
        lines += ["", _("⏳ You are on the waiting list.")]
    is_open = event.status == "approved" and event.ends_at > clock.now()
    return "\n".join(lines), card_keyboard(event, mine, is_open, role == COORDINATOR)


async def cmd_start_event(
    message: Message,
    command: CommandObject,
    db: Database,
    plan: Plan,
    clock: Clock,
    role: str,
    event_from_user: User,
) -> None:
    """/start event_<id>: the link in a calendar entry or a shared message opens the card."""
    match = _PAYLOAD.match(command.args or "")
    event, mine = None, None
    if match:
        async with db.read() as repo:
            event, mine = await repo.events.seen_by(int(match.group(1)), event_from_user.id)
    if event is None or not visible(event, event_from_user.id, role):
        await answer(message, _("There is no such event. See /events."))
        return
    await answer(message, *await card(db, plan, clock, event, event_from_user.id, role, mine))


async def on_open(
    query: CallbackQuery,
    callback_data: EventCb,
    db: Database,
    plan: Plan,
    clock: Clock,
    role: str,
    event_from_user: User,
) -> None:
    async with db.read() as repo:
        event, mine = await repo.events.seen_by(callback_data.id, event_from_user.id)
    if event is None or not visible(event, event_from_user.id, role):
        await query.answer(_("There is no such event. See /events."), show_alert=True)
        return
    await show(query, *await card(db, plan, clock, event, event_from_user.id, role, mine))
