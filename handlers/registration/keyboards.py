"""The buttons of /register: the dialog's own, the areas checklist, and joining."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.forms import Act, FormCb
from handlers.reply import shorten
from plan import Plan


class RegCb(FormCb, prefix="reg"):
    """A button of the registration dialog."""


class AreaCb(CallbackData, prefix="area"):
    """The areas checklist: a direction toggled, or `done` (empty code)."""

    code: str = ""


class JoinAction(StrEnum):
    register = "new"  # register a new organisation
    search = "find"  # look for one to join
    request = "join"  # ask to join organisation `org`


class JoinCb(CallbackData, prefix="regj"):
    action: JoinAction
    org: int = 0


def cancel_button(builder: InlineKeyboardBuilder) -> None:
    builder.button(text=_("✖ Cancel"), callback_data=RegCb(action=Act.cancel))


def areas_keyboard(plan: Plan, chosen: list[str]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for direction in plan.directions:
        mark = "☑" if direction.code in chosen else "☐"
        title = shorten(direction.title, 50)
        builder.button(
            text=f"{mark} {direction.code}. {title}", callback_data=AreaCb(code=direction.code)
        )
    builder.button(text=_("✔ Done"), callback_data=AreaCb())
    cancel_button(builder)
    builder.adjust(1)
    return builder.as_markup()


def entry_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("➕ Register a new organisation"), callback_data=JoinCb(action=JoinAction.register)
    )
    builder.button(
        text=_("🤝 Join a registered organisation"), callback_data=JoinCb(action=JoinAction.search)
    )
    builder.adjust(1)
    return builder.as_markup()


def contact_keyboard() -> ReplyKeyboardMarkup:
    """Telegram's «share my phone number» button; typing a phone or an e-mail stays possible."""
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder="+380671234567",
    )
