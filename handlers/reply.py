"""Replies within Telegram's limits: long texts split at line boundaries, user text escaped."""

from __future__ import annotations

import html

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

MESSAGE_LIMIT = 4096
ECHO_LIMIT = 200


def echo(user_text: str, limit: int = ECHO_LIMIT) -> str:
    """User text made safe to show inside HTML, shortened to a readable length."""
    text = " ".join(user_text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=False)


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split HTML text into parts of at most `limit` characters, at line boundaries.

    Each line of our HTML is self-contained (tags open and close on it), so cutting between lines
    keeps every part valid. A single line longer than the limit is cut without breaking an entity.
    """
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        for piece in _cut_line(line, limit):
            candidate = f"{current}\n{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
                continue
            if current.strip():
                parts.append(current)
            current = piece
    if current.strip():
        parts.append(current)
    return parts or ["…"]


def _cut_line(line: str, limit: int) -> list[str]:
    pieces = []
    while len(line) > limit:
        cut = limit
        amp = line.rfind("&", 0, cut)
        # Never split inside an HTML entity such as &amp;
        if amp != -1 and ";" not in line[amp:cut]:
            cut = amp
        pieces.append(line[:cut])
        line = line[cut:]
    pieces.append(line)
    return pieces


async def answer(
    message: Message, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> Message:
    """Send text as one or more messages; the keyboard goes under the last part."""
    parts = split_message(text)
    sent = message
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        sent = await message.answer(part, reply_markup=reply_markup if last else None)
    return sent


async def show(
    query: CallbackQuery, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the message a button belongs to, rather than flooding the chat."""
    parts = split_message(text)
    message = query.message
    if not isinstance(message, Message) or len(parts) > 1:
        # An inaccessible (too old) message cannot be edited; a long text needs new messages.
        if query.message is not None and query.bot is not None:
            chat_id = query.message.chat.id
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                await query.bot.send_message(
                    chat_id, part, reply_markup=reply_markup if last else None
                )
        await query.answer()
        return
    try:
        await message.edit_text(parts[0], reply_markup=reply_markup)
    except TelegramBadRequest as e:
        # A double tap asks for the same text again: nothing to change, nothing to report.
        if "message is not modified" not in e.message:
            raise
    await query.answer()


async def drop_keyboard(message: Message) -> None:
    """Remove a message's buttons once they are used, so an old prompt cannot be answered twice."""
    if message.reply_markup is None:
        return
    try:
        await message.edit_reply_markup(reply_markup=None)
    except TelegramBadRequest as e:
        if "message is not modified" not in e.message:
            raise
