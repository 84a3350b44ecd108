"""The bot's HTTP session: JSON bodies, files still multipart, Telegram's answers mapped as aiogram
maps them, and each answer type built once."""

from __future__ import annotations

import gc
import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import SendMessage
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.http_session import BotAPISession
from fakes.bot_api import FakeBotAPI

TOKEN = "123456:TEST"
CHAT = 4242
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Далі", callback_data="next:1")]]
)


class QuietSession(BotAPISession):
    """AiohttpSession.close() sleeps 250 ms for SSL shutdown; nothing here is SSL."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


@pytest_asyncio.fixture
async def api_bot() -> AsyncIterator[tuple[FakeBotAPI, Bot]]:
    async with FakeBotAPI(TOKEN) as api:
        session = QuietSession(api=TelegramAPIServer.from_base(api.url))
        bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        try:
            yield api, bot
        finally:
            await bot.session.close()


def test_a_request_without_a_file_is_json_with_aiogram_values() -> None:
    session = BotAPISession()
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
    body = session.json_body(
        bot, SendMessage(chat_id=CHAT, text="<b>Так</b>", reply_markup=KEYBOARD)
    )
    assert body is not None
    assert json.loads(body) == {
        "chat_id": CHAT,
        "text": "<b>Так</b>",
        "parse_mode": "HTML",  # the bot's default, resolved as form data resolves it
        "reply_markup": {"inline_keyboard": [[{"text": "Далі", "callback_data": "next:1"}]]},
    }


async def test_messages_keyboards_and_refusals_over_http(api_bot: tuple[FakeBotAPI, Bot]) -> None:
    api, bot = api_bot
    sent = await bot.send_message(CHAT, "<b>Привіт</b>", reply_markup=KEYBOARD)
    assert isinstance(sent, Message) and sent.text == "Привіт"
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "next:1"
    call = api.calls_of("sendMessage")[-1]
    assert call.params["chat_id"] == CHAT and call.params["parse_mode"] == "HTML"

    edited = await bot.edit_message_text("Інакше", chat_id=CHAT, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.text == "Інакше"

    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(CHAT, "<b>unclosed")


async def test_a_file_still_goes_as_multipart(api_bot: tuple[FakeBotAPI, Bot]) -> None:
    api, bot = api_bot
    document = BufferedInputFile(b"a;b\n1;2\n", filename="report.csv")
    sent = await bot.send_document(CHAT, document, caption="<i>Звіт</i>")
    assert sent.document is not None and sent.document.file_name == "report.csv"
    assert api.uploads[-1]["data"] == b"a;b\n1;2\n"
    assert api.uploads[-1]["caption"] == "Звіт"


def test_each_answer_type_is_built_once() -> None:
    session = BotAPISession()
    first = session.response_type(Message)
    gc.collect()
    assert session.response_type(Message) is first
    assert session.response_type(bool) is not first
