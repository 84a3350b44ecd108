"""A Bot API answered in-process, for `cso-bot chat` and the tests: no network, no token.

It keeps each chat's messages so edits and button presses behave as in Telegram, and refuses
what Telegram refuses (empty or too long text, invalid HTML), through aiogram's own error mapping.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncGenerator
from typing import Any

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup

from formats.telegram_text import HTMLParseError, parse_html

BOT_USER = {"id": 1, "is_bot": True, "first_name": "CSO Bot", "username": "cso_partnership_bot"}
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
_TRUE_METHODS = {
    "answerCallbackQuery",
    "setMyCommands",
    "deleteMyCommands",
    "deleteWebhook",
    "setWebhook",
    "deleteMessage",
    "sendChatAction",
}


class LocalSession(BaseSession):
    def __init__(self, check_html: bool = False) -> None:
        super().__init__()
        self.check_html = check_html
        self.requests: list[TelegramMethod[Any]] = []
        self.messages: dict[int, dict[int, dict[str, Any]]] = {}
        self._ids = itertools.count(1)

    async def close(self) -> None:
        return None

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - aiogram's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        self.requests.append(method)
        params = {
            name: bot.default[value.name] if isinstance(value, Default) else value
            for name, value in method
        }
        status, payload = self._answer(method.__api_method__, params)
        response = self.check_response(bot, method, status, json.dumps(payload))
        return response.result  # type: ignore[return-value]

    def _answer(self, name: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if name in _TRUE_METHODS:
            return _ok(True)
        if name == "getMe":
            return _ok(BOT_USER)
        if name == "sendMessage":
            return self._send(params, text=params["text"])
        if name in ("sendDocument", "sendPhoto"):
            return self._send(params, caption=params.get("caption"), kind=name)
        if name == "editMessageText":
            return self._edit(params, text=params["text"])
        if name == "editMessageReplyMarkup":
            return self._edit(params)
        return _error(400, f"Bad Request: method {name} is not emulated by the local session")

    def _check(self, text: str | None, parse_mode: str | None, limit: int) -> str | None:
        if text is None:
            return None
        length = len(text)
        if parse_mode == "HTML":
            # One parse gives both the verdict and the visible length (strict when checking:
            # a text strict parsing accepts reads the same as the lenient one).
            try:
                length = len(parse_html(text, strict=self.check_html)[0])
            except HTMLParseError as problem:
                if self.check_html:
                    return f"Bad Request: can't parse entities: {problem}"
        if length == 0 or not text.strip():
            return "Bad Request: message text is empty"
        if length > limit:
            return "Bad Request: message is too long"
        return None

    def _send(
        self,
        params: dict[str, Any],
        text: str | None = None,
        caption: str | None = None,
        kind: str = "sendMessage",
    ) -> tuple[int, dict[str, Any]]:
        problem = (
            self._check(text, params.get("parse_mode"), TEXT_LIMIT)
            if kind == "sendMessage"
            else self._check(caption, params.get("parse_mode"), CAPTION_LIMIT)
        )
        if problem:
            return _error(400, problem)
        chat_id = int(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
        }
        if text is not None:
            message["text"] = text
        if caption is not None:
            message["caption"] = caption
        if kind == "sendDocument":
            document = params["document"]
            message["document"] = {
                "file_id": f"doc{message['message_id']}",
                "file_unique_id": f"u{message['message_id']}",
                "file_name": getattr(document, "filename", None) or "file",
            }
        if kind == "sendPhoto":
            message["photo"] = [
                {
                    "file_id": f"ph{message['message_id']}",
                    "file_unique_id": "p",
                    "width": 1,
                    "height": 1,
                }
            ]
        _set_markup(message, params.get("reply_markup"))
        self.messages.setdefault(chat_id, {})[message["message_id"]] = message
        return _ok(message)

    def _edit(self, params: dict[str, Any], text: str | None = None) -> tuple[int, dict[str, Any]]:
        chat_id = int(params["chat_id"])
        message = self.messages.get(chat_id, {}).get(int(params["message_id"]))
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        problem = self._check(text, params.get("parse_mode"), TEXT_LIMIT)
        if problem:
            return _error(400, problem)
        updated = dict(message)
        if text is not None:
            updated["text"] = text
        updated.pop("reply_markup", None)
        _set_markup(updated, params.get("reply_markup"))
        if updated == message:
            return _error(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup of the "
                "message",
            )
        updated["edit_date"] = int(time.time())
        self.messages[chat_id][message["message_id"]] = updated
        return _ok(updated)


def _set_markup(message: dict[str, Any], markup: Any) -> None:
    # As in Telegram, a message keeps only inline buttons; a reply keyboard (the contact
    # button, say) belongs to the chat's input field, and its removal is no markup at all.
    if isinstance(markup, InlineKeyboardMarkup):
        message["reply_markup"] = markup.model_dump(mode="json", exclude_none=True)


def _ok(result: Any) -> tuple[int, dict[str, Any]]:
    return 200, {"ok": True, "result": result}


def _error(code: int, description: str) -> tuple[int, dict[str, Any]]:
    return code, {"ok": False, "error_code": code, "description": description}
