"""Callback data of every inline button, as typed classes (each packs to at most 64 bytes)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class MenuAction(StrEnum):
    main = "main"
    plan = "plan"
    search = "search"
    bodies = "bodies"
    funding = "funding"
    language = "lang"
    help = "help"


class MenuCb(CallbackData, prefix="menu"):
    action: MenuAction


class PlanLevel(StrEnum):
    directions = "r"
    direction = "d"
    task = "t"
    measure = "m"


class PlanCb(CallbackData, prefix="p"):
    """A place in the plan tree; `code` is empty at the root; `plan` is an earlier (or later)
    plan's index among the loaded ones, empty for the current plan."""

    level: PlanLevel
    code: str = ""
    plan: int | None = None


class GlossaryKind(StrEnum):
    body = "b"
    funding = "f"


class GlossaryCb(CallbackData, prefix="g"):
    """A glossary list (empty id) or one entry's measures."""

    kind: GlossaryKind
    id: str = ""


class LanguageCb(CallbackData, prefix="lang"):
    code: str
