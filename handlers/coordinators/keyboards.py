"""The buttons of /coordinators."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class CoordAction(StrEnum):
    add = "add"
    cancel = "cancel"
    remove = "remove"
    remove_yes = "remove_yes"
    remove_no = "remove_no"


class CoordCb(CallbackData, prefix="coord"):
    action: CoordAction
    user: int = 0
