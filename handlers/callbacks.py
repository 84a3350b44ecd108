"""Callback data of every inline button, as typed classes (each packs to at most 64 bytes)."""

from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData


class MenuAction(str, Enum):
    main = "main"
    plan = "plan"
    search = "search"
    bodies = "bodies"
    funding = "funding"
    language = "lang"
    help = "help"


class MenuCb(CallbackData, prefix="menu"):
    action: MenuAction


class PlanLevel(str, Enum):
    directions = "r"
    direction = "d"
    task = "t"
    measure = "m"


class PlanCb(CallbackData, prefix="p"):
    """A place in the plan tree; `code` is empty at the root."""

    level: PlanLevel
    code: str = ""


class GlossaryKind(str, Enum):
    body = "b"
    funding = "f"


class GlossaryCb(CallbackData, prefix="g"):
    """A glossary list (empty id) or one entry's measures."""

    kind: GlossaryKind
    id: str = ""


class LanguageCb(CallbackData, prefix="lang"):
    code: str
