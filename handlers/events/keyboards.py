"""The keyboards of events: the list, one event's card, and the coordinators' decisions."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db.events import EventRecord
from handlers.events.callbacks import EventAction, EventCb
from handlers.plan_views import back_to_menu
from handlers.reply import shorten
from plan import Plan

ACTIVE = "• "  # marks the filter the list is shown with


def _marked(label: str, active: bool) -> str:
    return ACTIVE + label if active else label


def list_keyboard(
    plan: Plan, shown: list[EventRecord], page: int, pages: int, f: str
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    sizes: list[int] = []
    for event in shown:
        builder.button(
            text=shorten(f"№{event.id} {event.title}", 40),
            callback_data=EventCb(action=EventAction.open, id=event.id),
        )
        sizes.append(1)
    nav = 0
    if page > 0:
        builder.button(
            text="◀", callback_data=EventCb(action=EventAction.list, page=page - 1, f=f)
        )
        nav += 1
    if page < pages - 1:
        builder.button(
            text="▶", callback_data=EventCb(action=EventAction.list, page=page + 1, f=f)
        )
        nav += 1
    if nav:
        sizes.append(nav)
    builder.button(text=_marked(_("All"), not f), callback_data=EventCb(action=EventAction.list))
    for direction in plan.directions:
        key = f"d-{direction.code}"
        builder.button(
            text=_marked(_("Direction {code}").format(code=direction.code), f == key),
            callback_data=EventCb(action=EventAction.list, f=key),
        )
    sizes.append(1 + len(plan.directions))
    # /events is also opened from the main menu: the way back to it.
    builder.add(back_to_menu())
    sizes.append(1)
    builder.adjust(*sizes)
    return builder.as_markup()


def card_keyboard(
    event: EventRecord, mine: str | None, is_open: bool, coordinator: bool
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if is_open and mine is None:
        full = event.capacity is not None and event.going >= event.capacity
        if full:
            builder.button(
                text=_("⏳ Join the waiting list"),
                callback_data=EventCb(action=EventAction.wait, id=event.id),
            )
        else:
            builder.button(
                text=_("✋ I'll come"), callback_data=EventCb(action=EventAction.go, id=event.id)
            )
    if is_open and mine is not None:
        builder.button(
            text=_("↩ I won't come"), callback_data=EventCb(action=EventAction.leave, id=event.id)
        )
    if event.status == "approved":
        builder.button(
            text=_("📅 Add to calendar"),
            callback_data=EventCb(action=EventAction.ics, id=event.id),
        )
    if coordinator and is_open:
        builder.button(
            text=_("🕑 Move"), callback_data=EventCb(action=EventAction.move, id=event.id)
        )
        builder.button(
            text=_("❌ Cancel the event"),
            callback_data=EventCb(action=EventAction.drop, id=event.id),
        )
    builder.button(text=_("◀ Events"), callback_data=EventCb(action=EventAction.list))
    builder.adjust(1)
    return builder.as_markup()


def decision_keyboard(event_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Approve"), callback_data=EventCb(action=EventAction.approve, id=event_id)
    )
    builder.button(
        text=_("✖ Reject"), callback_data=EventCb(action=EventAction.reject, id=event_id)
    )
    return builder.as_markup()


def cancel_confirmation(event_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Yes, cancel the event"),
        callback_data=EventCb(action=EventAction.drop_yes, id=event_id),
    )
    builder.button(
        text=_("No, keep it"), callback_data=EventCb(action=EventAction.open, id=event_id)
    )
    builder.adjust(1)
    return builder.as_markup()
