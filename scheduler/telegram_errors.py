"""What a Telegram error means for a message: one rule for the newsletter and the outbox.

A message fails for good only for a permanent reason (403, chat not found, a 400 about the
message itself); everything in TRANSIENT means Telegram could not take it now, and it waits.
"""

from __future__ import annotations

from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramServerError,
)

# 5xx, timeouts, an unreachable API, an answer that is not Telegram's: try again later.
TRANSIENT = (TelegramServerError, TelegramNetworkError, ClientDecodeError)


def chat_gone(error: TelegramBadRequest) -> bool:
    """The chat no longer exists for the bot: stop writing to it (as after a 403)."""
    return "chat not found" in error.message.lower()
