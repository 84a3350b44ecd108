"""Conversations with the real dispatcher without Telegram, for `cso-bot chat` and the tests."""

from __future__ import annotations

import asyncio
import itertools
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.methods import TelegramMethod
from aiogram.types import CallbackQuery, Chat, Message, MessageEntity, Update, User

from bot.app import App
from fakes.session import LocalSession
from formats.telegram_text import html_problem, visible_text

LOCAL_TOKEN = "1:local-chat"  # noqa: S105 - not a secret: no Telegram behind it
_update_ids = itertools.count(1)


class Conversation:
    """One user's private chat with the bot, fed through the same dispatcher `cso-bot run` uses."""

    def __init__(
        self,
        app: App,
        user_id: int,
        *,
        first_name: str = "Тест",
        language_code: str = "uk",
        session: LocalSession | None = None,
    ) -> None:
        self.app = app
        self.session = session or LocalSession(check_html=html_problem)
        self.bot = Bot(
            LOCAL_TOKEN, session=self.session, default=DefaultBotProperties(parse_mode="HTML")
        )
        self.user = User(
            id=user_id, is_bot=False, first_name=first_name, language_code=language_code
        )
        self.chat = Chat(id=user_id, type="private")
        self._seen = 0

    async def send(self, text: str) -> list[TelegramMethod[Any]]:
        """Send a text message; return the requests the bot made in answer."""
        entities = None
        if text.startswith("/") and text.split():
            entities = [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
        message = Message(
            message_id=next(_update_ids),
            date=datetime.now(UTC),
            chat=self.chat,
            from_user=self.user,
            text=text,
            entities=entities,
        )
        return await self.feed(Update(update_id=next(_update_ids), message=message))

    async def press(self, message_id: int, data: str) -> list[TelegramMethod[Any]]:
        """Press a button (or send any callback data) on one of the bot's messages."""
        stored = self.session.messages.get(self.chat.id, {}).get(message_id)
        message = (
            Message.model_validate(stored)
            if stored
            else Message(message_id=message_id, date=datetime.now(UTC), chat=self.chat, text="…")
        )
        query = CallbackQuery(
            id=str(next(_update_ids)),
            from_user=self.user,
            chat_instance="local",
            message=message,
            data=data,
        )
        return await self.feed(Update(update_id=next(_update_ids), callback_query=query))

    async def feed(self, update: Update) -> list[TelegramMethod[Any]]:
        await self.app.dispatcher.feed_update(self.bot, update)
        new = self.session.requests[self._seen :]
        self._seen = len(self.session.requests)
        return new

    def keyboard(self) -> tuple[int, list[tuple[str, str]]]:
        """The newest message with inline buttons: its id and (text, callback data) pairs."""
        for message_id, message in sorted(
            self.session.messages.get(self.chat.id, {}).items(), reverse=True
        ):
            rows = message.get("reply_markup", {}).get("inline_keyboard")
            if rows:
                return message_id, [
                    (b["text"], b.get("callback_data", "")) for r in rows for b in r
                ]
        return 0, []


class TerminalChat:
    """`cso-bot chat`: typed lines become messages, a number presses that button."""

    def __init__(self, app: App, user_id: int, out: TextIO = sys.stdout) -> None:
        self.conversation = Conversation(app, user_id, first_name="Ви")
        self.out = out

    async def say(self, line: str) -> None:
        line = line.strip()
        message_id, buttons = self.conversation.keyboard()
        if line.isdigit() and 1 <= int(line) <= len(buttons):
            requests = await self.conversation.press(message_id, buttons[int(line) - 1][1])
        else:
            # "=7" sends the text 7 where a bare 7 would press button 7.
            requests = await self.conversation.send(line.removeprefix("="))
        for method in requests:
            self._print(method.__api_method__, dict(method))
        _, buttons = self.conversation.keyboard()
        if buttons:
            self.out.write(
                "   "
                + "   ".join(f"[{i}] {text}" for i, (text, _) in enumerate(buttons, 1))
                + "\n\n"
            )

    def _print(self, name: str, params: dict[str, Any]) -> None:
        if name == "answerCallbackQuery" and params.get("text"):
            self.out.write(f"  ⓘ {params['text']}\n")
        if name in ("sendMessage", "editMessageText", "sendDocument", "sendPhoto"):
            text = params.get("text") or params.get("caption") or ""
            chat_id = params.get("chat_id")
            # What the bot sends to other people (coordinators, say) is shown, but marked.
            to = f"[→ {chat_id}] " if chat_id not in (None, self.conversation.chat.id) else ""
            mark = "✎ " if name == "editMessageText" else ""
            self.out.write(to + mark + visible_text(text) + "\n")


async def run_chat(app: App, user_id: int) -> None:
    chat = TerminalChat(app, user_id)
    dp, bot = app.dispatcher, chat.conversation.bot
    await dp.emit_startup(bot=bot, dispatcher=dp, **dp.workflow_data)
    print(
        "Розмова з ботом. Пишіть повідомлення; число натискає кнопку (=7 надсилає текст 7); "
        "/quit або Ctrl-D — вихід.\n"
    )
    loop = asyncio.get_running_loop()
    try:
        await chat.say("/start")
        while True:
            line = await loop.run_in_executor(None, _read_line)
            if line is None or line.strip() in ("/quit", "/exit"):
                break
            if line.strip():
                await chat.say(line)
    finally:
        await dp.emit_shutdown(bot=bot, dispatcher=dp, **dp.workflow_data)
        await bot.session.close()


def _read_line() -> str | None:
    try:
        return input("> ")
    except EOFError:
        return None
