"""Who is waiting for a Bot API request: the priority the outgoing path gives it.

A contextvar, so the code that sends needs no extra argument: the bot marks the handling of a
person's update as a reply, the newsletter engine marks its sends as the newsletter, and
everything else (reminders, notifications from jobs) is a notification.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import IntEnum


class Priority(IntEnum):
    """Lower goes first."""

    reply = 0  # a person who just wrote to the bot is waiting for this
    notification = 1  # told of something that happened; nobody is watching the chat
    newsletter = 2  # a bulk send: may wait for the others


_current: ContextVar[Priority] = ContextVar("outgoing_priority", default=Priority.notification)


def current() -> Priority:
    return _current.get()


@contextmanager
def sending_as(priority: Priority) -> Iterator[None]:
    """Requests made inside this block (and tasks started from it) carry `priority`."""
    token = _current.set(priority)
    try:
        yield
    finally:
        _current.reset(token)
