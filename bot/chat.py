"""Conversations with the real dispatcher without Telegram, for `cso-bot chat` and the tests."""

from __future__ import annotations

import asyncio
import itertools
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.methods import TelegramMethod
from aiogram.types import CallbackQuery, Chat, Message, MessageEntity, Update, User

from bot.app import App, warm_search_soon
from fakes.session import LocalSession
from formats.telegram_text import visible_text

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
        self.session = session or LocalSession(check_html=True)
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
    """`cso-bot chat`: typed lines become messages; buttons are pressed by their numbers.

    Every message with buttons gets a number on screen and its buttons `N.1`, `N.2`, …, so a
    button of any message still on screen can be pressed (`3.2`); a bare number presses a button
    of the newest keyboard. Files the bot sends are saved into `files_dir` and their paths shown.
    """

    def __init__(
        self, app: App, user_id: int, out: TextIO = sys.stdout, files_dir: Path | None = None
    ) -> None:
        self.conversation = Conversation(app, user_id, first_name="Ви")
        self.out = out
        self.files_dir = files_dir or Path("var") / "chat-files"
        self._numbers: dict[int, int] = {}  # message id -> its number on screen
        self._saved = itertools.count(1)
        self._new: list[int] = []

    async def say(self, line: str) -> None:
        line = line.strip()
        target = self._button(line)
        before = set(self._own_messages())
        if target is not None:
            requests = await self.conversation.press(*target)
        else:
            # "=7" sends the text 7 where a bare 7 would press button 7.
            requests = await self.conversation.send(line.removeprefix("="))
        # The messages this line made, in the order they were sent (the session numbers them).
        self._new = sorted(set(self._own_messages()) - before)
        for method in requests:
            self._print(method.__api_method__, dict(method))

    def _own_messages(self) -> dict[int, dict[str, Any]]:
        return self.conversation.session.messages.get(self.conversation.chat.id, {})

    def _button(self, line: str) -> tuple[int, str] | None:
        """The (message id, callback data) a typed `7` or `3.2` stands for, if any."""
        message_number, _, button = line.partition(".")
        if not message_number.isdigit() or not (button.isdigit() or not button):
            return None
        if not button:
            message_id, buttons = self.conversation.keyboard()
            index = int(message_number)
        else:
            ids = [m for m, n in self._numbers.items() if n == int(message_number)]
            if not ids:
                return None
            message_id, index = ids[0], int(button)
            buttons = self._buttons_of(message_id)
        if 1 <= index <= len(buttons):
            return message_id, buttons[index - 1][1]
        return None

    def _buttons_of(self, message_id: int) -> list[tuple[str, str]]:
        rows = (
            self._own_messages().get(message_id, {}).get("reply_markup", {}).get("inline_keyboard")
            or []
        )
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    def _print(self, name: str, params: dict[str, Any]) -> None:
        if name == "answerCallbackQuery" and params.get("text"):
            self.out.write(f"  ⓘ {params['text']}\n")
        if name == "sendChatAction":
            self.out.write(f"  … {params.get('action')}\n")
        if name not in ("sendMessage", "editMessageText", "sendDocument", "sendPhoto"):
            return
        text = params.get("text") or params.get("caption") or ""
        chat_id = params.get("chat_id")
        if chat_id not in (None, self.conversation.chat.id):
            # Sent to someone else (a coordinator, say): shown as such, never as ours, and its
            # buttons are theirs to press.
            self.out.write(f"  ✉ [→ {chat_id}] {visible_text(text)}\n")
            return
        mark = "✎ " if name == "editMessageText" else ""
        self.out.write(mark + visible_text(text) + "\n")
        upload = params.get("document") or params.get("photo")
        if upload is not None:
            self.out.write(f"  📎 {self._save(upload)}\n")
        message_id = self._message_id(name, params)
        buttons = self._buttons_of(message_id) if message_id else []
        if buttons:
            number = self._numbers.setdefault(message_id, len(self._numbers) + 1)
            self.out.write(
                "   "
                + "   ".join(f"[{number}.{i}] {t}" for i, (t, _) in enumerate(buttons, 1))
                + "\n\n"
            )

    def _message_id(self, name: str, params: dict[str, Any]) -> int:
        if name == "editMessageText":
            return int(params.get("message_id") or 0)
        return self._new.pop(0) if self._new else 0

    def _save(self, upload: Any) -> Path | str:
        data = getattr(upload, "data", None)
        if not isinstance(data, bytes):
            return getattr(upload, "path", None) or str(upload)  # a file id or a path already
        name = Path(getattr(upload, "filename", None) or "file").name
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / f"{next(self._saved):03d}-{name}"
        path.write_bytes(data)
        return path.resolve()


async def run_chat(app: App, user_id: int) -> None:
    chat = TerminalChat(app, user_id)
    dp, bot = app.dispatcher, chat.conversation.bot
    await dp.emit_startup(bot=bot, dispatcher=dp, **dp.workflow_data)
    warm_search_soon(dp)
    print(
        "Розмова з ботом. Пишіть повідомлення; 3.2 натискає кнопку 2 повідомлення 3, число — "
        "кнопку найновішого (=7 надсилає текст 7); файли зберігаються в "
        f"{chat.files_dir}; /quit або Ctrl-D — вихід.\n"
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
