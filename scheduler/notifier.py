"""Messaging a set of people: the one notifier every feature uses.

Each person gets the message composed in their own language (the one they chose in the bot,
else the default); one who blocked the bot or never started it does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from db import Database

log = logging.getLogger(__name__)

Composed = str | tuple[str, InlineKeyboardMarkup | None]
Compose = Callable[[], Composed]
"""Builds one person's message (text, or text and buttons) inside their locale."""


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

    async def tell(self, bot: Bot, people: Iterable[int], compose: Compose) -> list[int]:
        """Send each person (once, in a stable order) their message; return who got it."""
        told: list[int] = []
        for user_id in sorted(set(people)):
            with self.i18n.context(), self.i18n.use_locale(await self.locale_of(user_id)):
                composed = compose()
            text, markup = composed if isinstance(composed, tuple) else (composed, None)
            try:
                await bot.send_message(user_id, text, reply_markup=markup)
            except TelegramAPIError as e:
                log.warning("message to %s not delivered: %s", user_id, e.message)
                continue
            told.append(user_id)
        return told
