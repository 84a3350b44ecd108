"""What every update passes before any feature: private chats only, sane ids, clear failures.

- A person's update is handled as a reply (scheduler/priority.py): the outgoing path sends what
  it says before notifications and the newsletter.
- Groups and channels: the bot runs no dialog and shows no view there; added to a group it says
  once (on being added) that it works in private chats; anything else there, service messages
  included, is silently ignored, and a button pressed there gets that same answer.
- A message without a sender (a channel or an anonymous admin) is silently ignored.
- Callback data carrying a number SQLite cannot store (2^63 or more) is a stale button: no
  handler ever sees it.
- The database refusing to save (disk full, locked too long): the person is told to try later
  and the operator gets one log line per outage instead of a traceback per update.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.filters import JOIN_TRANSITION, ChatMemberUpdatedFilter
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import (
    CallbackQuery,
    ChatMemberUpdated,
    ErrorEvent,
    Message,
    TelegramObject,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from db import UserRecord, cannot_save
from handlers.fallback import on_stale_button
from scheduler.priority import Priority, sending_as

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
SQLITE_MAX_INTEGER = 2**63 - 1
_NUMBER = re.compile(r"-?\d+")
LOG_AGAIN_AFTER = 600.0  # seconds: one line per outage, not one per update


def event_isolation() -> SimpleEventIsolation:
    """One update at a time per person (chat and user), in arrival order, in this process."""
    return SimpleEventIsolation()


def install_safeguards(dp: Dispatcher) -> None:
    """Register the safeguards; call before the features' routers are included."""
    dp.update.outer_middleware(_handle_as_reply)
    dp.include_router(build_router())
    dp.errors.register(CannotSave().on_error, CannotSave.concerns)


async def _handle_as_reply(handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
    with sending_as(Priority.reply):
        return await handler(event, data)


async def carries_huge_number(query: CallbackQuery) -> bool:
    return any(
        abs(int(part)) > SQLITE_MAX_INTEGER
        for part in (query.data or "").split(":")
        if _NUMBER.fullmatch(part)
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.my_chat_member.register(
        on_added_to_group, ChatMemberUpdatedFilter(JOIN_TRANSITION), outside_private
    )
    router.my_chat_member.register(_ignore)  # removed, promoted, private block: nothing to say
    router.message.register(_ignore, outside_private)
    router.message.register(_ignore, without_sender)
    router.callback_query.register(on_button_outside_private, button_outside_private)
    router.callback_query.register(on_stale_button, carries_huge_number)
    return router


# Every message and button passes these checks first, so they are plain coroutines (aiogram
# awaits them in the event loop) rather than magic filters resolved at each update.
async def outside_private(event: Message | ChatMemberUpdated) -> bool:
    """`F.chat.type != "private"`."""
    return event.chat.type != "private"


async def without_sender(message: Message) -> bool:
    """`F.from_user.is_(None)`: a channel's post, say."""
    return message.from_user is None


async def button_outside_private(query: CallbackQuery) -> bool:
    """`F.message.chat.type != "private"` (a button of an inline message has no message)."""
    return query.message is not None and query.message.chat.type != "private"


async def _ignore(event: TelegramObject) -> None:
    """A deliberate silence: claims the update so no feature sees it."""


def _private_only() -> str:
    return _("I work in private chats only: write to me directly, and I will answer there.")


async def on_added_to_group(event: ChatMemberUpdated, bot: Bot) -> None:
    await bot.send_message(event.chat.id, _private_only())


async def on_button_outside_private(query: CallbackQuery) -> None:
    await query.answer(_private_only(), show_alert=True)


class CannotSave:
    """The database refused a write: tell the person, log once per outage."""

    def __init__(self) -> None:
        self._logged_at: float | None = None

    @staticmethod
    def concerns(event: ErrorEvent) -> bool:
        """Other errors are not ours: aiogram logs them as before."""
        error = event.exception
        return cannot_save(error)

    async def on_error(
        self, event: ErrorEvent, bot: Bot, i18n: I18n, user_record: UserRecord | None = None
    ) -> bool:
        now = time.monotonic()
        if self._logged_at is None or now - self._logged_at > LOG_AGAIN_AFTER:
            self._logged_at = now
            log.error("the database cannot save: %s", event.exception)
        language = user_record.language if user_record else None
        if language not in i18n.available_locales:
            language = i18n.default_locale
        with i18n.context(), i18n.use_locale(language):
            text = _("The bot cannot save right now. Please try again later.")
        update = event.update
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None:
            await bot.send_message(update.message.chat.id, text)
        return True
