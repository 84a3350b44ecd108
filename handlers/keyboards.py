"""Inline keyboards built without waste: static menus once per locale, the rest row by row.

`InlineKeyboardBuilder.as_markup()` deep-copies every button it holds (and `adjust` copies the
rows again); on a hot path that is a tenth of an update's time. `grid` and `column` build the
markup directly. A menu whose buttons depend only on the reader's language is built once per
locale by `per_locale`, checked then (Telegram's limits on callback data), and reused: aiogram
only reads a markup when it sends it. The plan's views are built once per node and locale by
`PerNode`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from functools import wraps
from typing import Generic, TypeVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n

T = TypeVar("T")

CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit on a button's callback_data


def button(text: str, data: CallbackData | str) -> InlineKeyboardButton:
    packed = data if isinstance(data, str) else data.pack()
    return InlineKeyboardButton(text=text, callback_data=packed)


def grid(buttons: Sequence[InlineKeyboardButton], *widths: int) -> InlineKeyboardMarkup:
    """Rows of the given widths, the last width repeated for the rest (like `adjust`)."""
    widths = widths or (1,)
    rows: list[list[InlineKeyboardButton]] = []
    at, n = 0, 0
    while at < len(buttons):
        width = widths[min(n, len(widths) - 1)]
        rows.append(list(buttons[at : at + width]))
        at, n = at + width, n + 1
    return InlineKeyboardMarkup(inline_keyboard=rows)


def column(buttons: Iterable[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[b] for b in buttons])


ROW_WIDTH = 8  # buttons a row at most, as InlineKeyboardBuilder.row cuts them


def rows(*lines: Sequence[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    """The given rows (as `InlineKeyboardBuilder.row`): a wider one cut, an empty one dropped."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            list(line[at : at + ROW_WIDTH])
            for line in lines
            for at in range(0, len(line), ROW_WIDTH)
        ]
    )


def check(markup: InlineKeyboardMarkup) -> InlineKeyboardMarkup:
    """Refuse a keyboard Telegram would refuse: a button without text or with callback data
    over 64 bytes (caught once, when a cached menu is built, not by a user's tap)."""
    for row in markup.inline_keyboard:
        for b in row:
            if not b.text:
                raise ValueError("a button without text")
            data = b.callback_data
            if data is not None and len(data.encode()) > CALLBACK_DATA_LIMIT:
                raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {data!r}")
    return markup


def per_locale(build: Callable[[], InlineKeyboardMarkup]) -> Callable[[], InlineKeyboardMarkup]:
    """A static menu built (and checked) once per locale, then the same markup reused."""
    built: dict[str, InlineKeyboardMarkup] = {}

    @wraps(build)
    def cached() -> InlineKeyboardMarkup:
        locale = get_i18n().current_locale
        markup = built.get(locale)
        if markup is None:
            markup = built[locale] = check(build())
        return markup

    return cached


class PerNode(Generic[T]):
    """Keyboards (or buttons) of the plan's views built once per (the nodes they show, their
    options, locale) and reused, for views whose buttons depend on nothing about the reader.

    The nodes are keyed by identity (hashing a direction would hash every measure beneath it)
    and kept with what was built, so no id is reused while its entry lives; past `size`
    entries the oldest go (tests load many plans).
    """

    __slots__ = ("_built", "_size")

    def __init__(self, size: int = 4096) -> None:
        self._built: dict[tuple[object, ...], tuple[tuple[object, ...], T]] = {}
        self._size = size

    def get(
        self, nodes: tuple[object, ...], options: tuple[Hashable, ...], build: Callable[[], T]
    ) -> T:
        key = (get_i18n().current_locale, tuple(map(id, nodes)), options)
        entry = self._built.get(key)
        if entry is not None:
            return entry[1]
        value = build()
        if isinstance(value, InlineKeyboardMarkup):
            check(value)
        while len(self._built) >= self._size:
            del self._built[next(iter(self._built))]
        self._built[key] = (nodes, value)
        return value
