"""Replies within Telegram's limits: long texts split at line boundaries, user text escaped."""

from __future__ import annotations

from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.chat_action import ChatActionSender

# Shared with the scheduler, which must not import handlers: they live in the plan layer.
from formats.telegram_text import MESSAGE_LIMIT, echo, shorten, split_message

__all__ = [
    "MESSAGE_LIMIT",
    "ChatAction",
    "answer",
    "drop_keyboard",
    "echo",
    "preparing",
    "shorten",
    "show",
    "split_message",
]


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


async def refuse(event: Message | CallbackQuery, text: str) -> None:
    """Say no to a message with a reply, to a button press with an alert."""
    if isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    else:
        await answer(event, text)


def preparing(
    bot: Bot, chat_id: int, action: ChatAction = ChatAction.UPLOAD_DOCUMENT
) -> ChatActionSender:
    """`async with preparing(...)` around making and sending a file: Telegram shows "sending a
    file…" (or a photo) in the chat until it is sent, renewed every 5 seconds."""
    return ChatActionSender(bot=bot, chat_id=chat_id, action=action)
