"""One way to show a person: their first name and @username, with the Telegram id."""

from __future__ import annotations

from html import escape

from aiogram.types import User
from aiogram.utils.i18n import gettext as _

from db.users import Person
from formats.telegram_text import shorten

MAX_SHOWN = 40  # a name is cut to this many characters, before it is escaped


def person_of(user: User) -> Person:
    """The person behind a Telegram user object (a sender, a shared or forwarded user)."""
    return Person(user.id, user.first_name, user.username)


def person(who: Person) -> str:
    """HTML: «Олена (@olena), id 201», «Олена, id 201», or «id 201» for someone never seen.

    Names are user input: cut first, then escaped, so an entity is never cut in half.
    """
    name = _cut(who.first_name)
    username = _cut(who.username)
    if name and username:
        return _("{name} (@{username}), id {id}").format(
            name=escape(name), username=escape(username), id=who.id
        )
    if name or username:
        shown = escape(name) if name else "@" + escape(username)
        return _("{name}, id {id}").format(name=shown, id=who.id)
    return _("id {id}").format(id=who.id)


def person_label(who: Person) -> str:
    """A button's plain text (no HTML): «Олена, 201», «@olena, 201» or «201»."""
    name = _cut(who.first_name) or ("@" + _cut(who.username) if who.username else "")
    return f"{name}, {who.id}" if name else str(who.id)


def _cut(text: str | None) -> str:
    return shorten(text or "", MAX_SHOWN)


def reported_by(who: Person) -> str:
    """A card's line naming who sent a report (for the review card of an activity report)."""
    return _("<b>Reported by:</b> {user}").format(user=person(who))
