"""How an event is shown and looked up: its card, its time span, whether it is still open."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from html import escape

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _

from db import Database
from db.events import EventRecord
from db.users import Person
from formats.dates import event_span
from handlers.people import person
from handlers.roles import COORDINATOR
from plan import Plan
from plan.clock import Clock

# Per list on a card: a card is edited in place, as one message of at most 4096 characters, and
# a shown person takes up to ~100 of them; the rest of each list is counted.
NAMES_SHOWN = 15


async def get_event(db: Database, event_id: int) -> EventRecord | None:
    async with db.read() as repo:
        return await repo.events.get(event_id)


async def refresh(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit the card a button belongs to, after the query was answered."""
    if not isinstance(query.message, Message):
        return
    # The answer is recorded and the user was told in the alert: a card that cannot be edited
    # (unchanged, deleted, too old) is not worth failing over.
    with contextlib.suppress(TelegramBadRequest):
        await query.message.edit_text(text, reply_markup=markup)


def visible(event: EventRecord | None, user_id: int, role: str) -> bool:
    if event is None:
        return False
    if event.status in ("approved", "cancelled"):
        return True
    return role == COORDINATOR or event.proposed_by == user_id


def closed(event: EventRecord | None, now: datetime) -> str | None:
    """Why nobody can answer for this event now, or None."""
    if event is None or event.status in ("pending", "rejected"):
        return _("There is no such event. See /events.")
    if event.status == "cancelled":
        return _("This event was cancelled.")
    if event.ends_at <= now:
        return _("This event is over.")
    return None


def when_text(starts: datetime, ends: datetime, clock: Clock) -> str:
    """«пт, 24 травня, 10:00–12:00» in the city's time and the reader's language; an event of
    another year than this one names its year."""
    return event_span(
        starts.astimezone(clock.timezone),
        ends.astimezone(clock.timezone),
        get_i18n().current_locale,
        clock.today(),
    )


def place_text(place: str) -> str:
    if place.startswith(("https://", "http://")) and " " not in place:
        return f'<a href="{escape(place)}">{escape(place)}</a>'
    return escape(place)


def card_lines(event: EventRecord, plan: Plan, clock: Clock) -> list[str]:
    """An event as everyone sees it; every text a person typed is escaped."""
    lines = [f"📅 <b>{escape(event.title)}</b>"]
    if event.status == "cancelled":
        lines.append(_("❌ Cancelled"))
    elif event.status == "pending":
        lines.append(_("⏳ Waiting for a coordinator's approval"))
    lines += [
        _("<b>When:</b> {value}").format(value=when_text(event.starts_at, event.ends_at, clock)),
        _("<b>Where:</b> {value}").format(value=place_text(event.place)),
        _("<b>Organiser:</b> {value}").format(value=escape(event.organiser)),
    ]
    measures = []
    for code in event.measures:
        measure = plan.measure(code)
        measures.append(f"{code} {escape(measure.title)}" if measure else code)
    if measures:
        lines.append(_("<b>Measures:</b> {value}").format(value="; ".join(measures)))
    if event.description:
        lines += ["", escape(event.description)]
    if event.capacity:
        lines.append(
            ngettext(
                "<b>Coming:</b> {going} of {capacity} place; waiting: {waiting}",
                "<b>Coming:</b> {going} of {capacity} places; waiting: {waiting}",
                event.capacity,
            ).format(going=event.going, capacity=event.capacity, waiting=event.waiting)
        )
    else:
        lines.append(_("<b>Coming:</b> {going}").format(going=event.going))
    return lines


def who_is_coming(going: Sequence[Person], waiting: Sequence[Person]) -> list[str]:
    """What the organiser and coordinators see of the answers: who is coming and who waits,
    by name (first name, @username), in the order they answered."""
    lines = [_("👥 <b>Who is coming</b> (seen by the organiser and coordinators only)")]
    if not going and not waiting:
        return [*lines, _("Nobody has answered yet.")]
    if going:
        lines.append(
            ngettext("{n} person is coming:", "{n} people are coming:", len(going)).format(
                n=len(going)
            )
        )
        lines += _listed(going)
    if waiting:
        lines.append(
            ngettext(
                "{n} person on the waiting list:", "{n} people on the waiting list:", len(waiting)
            ).format(n=len(waiting))
        )
        lines += _listed(waiting)
    return lines


def _listed(people: Sequence[Person]) -> list[str]:
    # A card is one message: past NAMES_SHOWN a list says how many more, not who.
    lines = [f"{i}. {person(p)}" for i, p in enumerate(people[:NAMES_SHOWN], start=1)]
    more = len(people) - NAMES_SHOWN
    if more > 0:
        lines.append(ngettext("…and {n} more person", "…and {n} more people", more).format(n=more))
    return lines
