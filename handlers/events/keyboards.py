"""The keyboards of events: the list, one event's card, and the coordinators' decisions."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db.events import EventRecord
from handlers.events.callbacks import EventAction, EventCb
from handlers.keyboards import button, column, grid
from handlers.plan_views import back_to_menu
from handlers.reply import shorten
from plan import Plan

ACTIVE = "• "  # marks the filter the list is shown with


def _marked(label: str, active: bool) -> str:
    return ACTIVE + label if active else label


def list_keyboard(
    plan: Plan, shown: list[EventRecord], page: int, pages: int, f: str
) -> InlineKeyboardMarkup:
    buttons = [
        button(
            shorten(f"№{event.id} {event.title}", 40),
            EventCb(action=EventAction.open, id=event.id),
        )
        for event in shown
    ]
    sizes = [1] * len(buttons)
    nav = 0
    if page > 0:
        buttons.append(button("◀", EventCb(action=EventAction.list, page=page - 1, f=f)))
        nav += 1
    if page < pages - 1:
        buttons.append(button("▶", EventCb(action=EventAction.list, page=page + 1, f=f)))
        nav += 1
    if nav:
        sizes.append(nav)
    buttons.append(button(_marked(_("All"), not f), EventCb(action=EventAction.list)))
    for direction in plan.directions:
        key = f"d-{direction.code}"
        label = _marked(_("Direction {code}").format(code=direction.code), f == key)
        buttons.append(button(label, EventCb(action=EventAction.list, f=key)))
    sizes.append(1 + len(plan.directions))
    # /events is also opened from the main menu: the way back to it.
    buttons.append(back_to_menu())
    sizes.append(1)
    return grid(buttons, *sizes)


def card_keyboard(
    event: EventRecord, mine: str | None, is_open: bool, coordinator: bool
) -> InlineKeyboardMarkup:
    def act(text: str, action: EventAction) -> InlineKeyboardButton:
        return button(text, EventCb(action=action, id=event.id))

    buttons: list[InlineKeyboardButton] = []
    if is_open and mine is None:
        full = event.capacity is not None and event.going >= event.capacity
        if full:
            buttons.append(act(_("⏳ Join the waiting list"), EventAction.wait))
        else:
            buttons.append(act(_("✋ I'll come"), EventAction.go))
    if is_open and mine is not None:
        buttons.append(act(_("↩ I won't come"), EventAction.leave))
    if event.status == "approved":
        buttons.append(act(_("📅 Add to calendar"), EventAction.ics))
    if coordinator and is_open:
        buttons.append(act(_("🕑 Move"), EventAction.move))
        buttons.append(act(_("❌ Cancel the event"), EventAction.drop))
    buttons.append(button(_("◀ Events"), EventCb(action=EventAction.list)))
    return column(buttons)


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
