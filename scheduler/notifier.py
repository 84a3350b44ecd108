"""Messaging a set of people: the one notifier every feature uses.

Each person gets the message composed in their own language (the one they chose in the bot,
else the default); one who blocked the bot or never started it does not stop the others.
Besides single messages it sends a series (a newsletter preview: the issue, then a notice) and
keeps a board (one message per person, edited in place as a newsletter's send goes).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from db import Database

log = logging.getLogger(__name__)
T = TypeVar("T")

Composed = str | tuple[str, InlineKeyboardMarkup | None]
Compose = Callable[[], Composed]
"""Builds one person's message (text, or text and buttons) inside their locale."""
ComposeSeries = Callable[[], Sequence[Composed]]
"""Builds one person's messages, sent in order, inside their locale."""


def _split(composed: Composed) -> tuple[str, InlineKeyboardMarkup | None]:
    return composed if isinstance(composed, tuple) else (composed, None)


class Notifier:
    def __init__(self, db: Database, i18n: I18n) -> None:
        self.db = db
        self.i18n = i18n

    async def locale_of(self, user_id: int) -> str:
        async with self.db.read() as repo:
            record = await repo.users.get(user_id)
        if record is not None and record.language in self.i18n.available_locales:
            return record.language
        return self.i18n.default_locale

    async def _in_locale_of(self, user_id: int, compose: Callable[[], T]) -> T:
        with self.i18n.context(), self.i18n.use_locale(await self.locale_of(user_id)):
            return compose()

    async def tell(self, bot: Bot, people: Iterable[int], compose: Compose) -> list[int]:
        """Send each person (once, in a stable order) their message; return who got it."""
        return await self.tell_series(bot, people, lambda: [compose()])

    async def tell_series(
        self, bot: Bot, people: Iterable[int], compose: ComposeSeries
    ) -> list[int]:
        """Send each person their messages in order; a failure skips the rest of theirs only."""
        told: list[int] = []
        for user_id in sorted(set(people)):
            series = await self._in_locale_of(user_id, compose)
            try:
                for composed in series:
                    text, markup = _split(composed)
                    await bot.send_message(user_id, text, reply_markup=markup)
            except TelegramAPIError as e:
                log.warning("message to %s not delivered: %s", user_id, e.message)
                continue
            told.append(user_id)
        return told

    async def show(
        self, bot: Bot, screens: MutableMapping[int, int | None], compose: Compose
    ) -> None:
        """Keep one message per person up to date: sent the first time (its id recorded in
        `screens`), edited after that. A message that cannot be shown is logged and skipped."""
        for user_id, message_id in list(screens.items()):
            text, markup = _split(await self._in_locale_of(user_id, compose))
            try:
                if message_id is None:
                    message = await bot.send_message(user_id, text, reply_markup=markup)
                    screens[user_id] = message.message_id
                else:
                    await bot.edit_message_text(
                        text, chat_id=user_id, message_id=message_id, reply_markup=markup
                    )
            except TelegramBadRequest as e:
                if "message is not modified" not in e.message:
                    log.warning("message to %s not shown: %s", user_id, e.message)
            except TelegramAPIError as e:
                log.warning("message to %s not shown: %s", user_id, e.message)
