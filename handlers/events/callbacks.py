"""The buttons of events: what each does, typed, packed within Telegram's 64 bytes."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from handlers.forms import FormCb


class EventAction(StrEnum):
    list = "list"
    open = "open"
    go = "go"
    wait = "wait"
    leave = "leave"
    ics = "ics"
    approve = "approve"
    reject = "reject"
    drop = "drop"
    drop_yes = "drop_yes"
    move = "move"


COORDINATORS_ONLY = frozenset(
    {
        EventAction.approve,
        EventAction.reject,
        EventAction.drop,
        EventAction.drop_yes,
        EventAction.move,
    }
)


class EventCb(CallbackData, prefix="ev"):
    """A button about events: `action` says what; `id` an event, `page` and `f` a list view."""

    action: EventAction
    id: int = 0
    page: int = 0
    f: str = ""


class EventFormCb(FormCb, prefix="evf"):
    """A button of the event proposal dialog."""
