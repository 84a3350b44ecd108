"""Middlewares: who the user is (and their role and language) for every kind of update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18nMiddleware

from db import Database, UserRecord
from db.coordinators import Coordinators
from db.members import Standing
from plan.clock import Clock

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def role_of(user_id: int, standing: Standing, coordinators: Coordinators) -> str:
    if coordinators.decides(user_id, added=standing.coordinator):
        return "coordinator"
    return "member" if standing.organisation_id is not None else "guest"


class UserMiddleware(BaseMiddleware):
    """Loads the user's record (creating it on first sight only), role and organisation.

    Registered on the update level, so messages, callbacks and every later event type get it.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: User | None = data.get("event_from_user")
        db: Database = data["db"]
        coordinators: Coordinators = data["coordinators"]
        clock: Clock = data["clock"]
        record, standing = None, Standing(coordinator=False, organisation_id=None)
        if tg_user is not None:
            async with db.read() as repo:
                record, standing = await repo.users.profile(tg_user.id)
            if record is None:
                async with db.transaction() as repo:
                    record = await repo.users.ensure(tg_user.id, clock.now().astimezone(UTC))
        data["user_record"] = record
        data["organisation_id"] = standing.organisation_id
        data["role"] = role_of(tg_user.id, standing, coordinators) if tg_user else "guest"
        return await handler(event, data)


class UserLocaleMiddleware(I18nMiddleware):
    """The language the user chose with /language; until they choose, their Telegram app's
    language when the bot speaks it (uk, en), else Ukrainian.

    Telegram shows the command menu in the app's language, so answering in it from the first
    message keeps the menu and the replies in one language.
    """

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        record: UserRecord | None = data.get("user_record")
        if record is not None and record.language in self.i18n.available_locales:
            return record.language
        tg_user: User | None = data.get("event_from_user")
        app_language = (tg_user.language_code or "") if tg_user else ""
        primary = app_language.split("-")[0].lower()
        if primary in self.i18n.available_locales:
            return primary
        return self.i18n.default_locale
