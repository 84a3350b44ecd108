"""The fake Bot API server, exercised through a real aiogram Bot as the bot process would."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from fakes.bot_api import FakeBotAPI, HTMLParseError, parse_html

TOKEN = "123456:TEST"
CHAT = 4242


class LocalSession(AiohttpSession):
    """AiohttpSession.close() sleeps 250 ms for SSL shutdown; nothing here is SSL."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(server: FakeBotAPI, token: str = TOKEN) -> Bot:
    session = LocalSession(api=TelegramAPIServer.from_base(server.url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


@asynccontextmanager
async def running(**options: Any) -> AsyncIterator[tuple[FakeBotAPI, Bot]]:
    async with FakeBotAPI(TOKEN, **options) as server:
        bot = make_bot(server)
        try:
            yield server, bot
        finally:
            await bot.session.close()


@pytest_asyncio.fixture
async def api_bot() -> AsyncIterator[tuple[FakeBotAPI, Bot]]:
    async with running() as pair:
        yield pair


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=d.upper(), callback_data=d) for d in data]]
    )


def dump(obj: Any) -> Any:
    """Comparable form of aiogram objects: received ones carry a bot reference, so != built."""
    if isinstance(obj, list):
        return [dump(item) for item in obj]
    return obj.model_dump(exclude_none=True) if obj is not None else None


@pytest.mark.asyncio
async def test_get_me_and_http_errors(api_bot: tuple[FakeBotAPI, Bot]) -> None:
    api, bot = api_bot
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "cso_test_bot")
    assert me.supports_inline_queries is False
    assert [c.method for c in api.calls] == ["getMe"]

    wrong = make_bot(api, token="654321:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await wrong.get_me()
    finally:
        await wrong.session.close()

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{api.url}/bot{TOKEN}/fooBar") as resp:
            assert resp.status == 404
            assert await resp.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        # JSON bodies and case-insensitive method names work as on Telegram
        async with http.post(
            f"{api.url}/bot{TOKEN}/SENDMESSAGE", json={"chat_id": CHAT, "text": "123"}
        ) as resp:
            body = await resp.json()
            assert resp.status == 200 and body["result"]["text"] == "123"
    assert api.calls[-1].method == "sendMessage"
    assert api.calls[-1].params == {"chat_id": CHAT, "text": "123"}


@pytest.mark.asyncio
async def test_send_message_is_stored_and_echoed(api_bot: tuple[FakeBotAPI, Bot]) -> None:
    api, bot = api_bot
    # "123" checks that text is never JSON-decoded into an int
    msg = await bot.send_message(CHAT, "<b>Привіт</b>, 123", reply_markup=keyboard("yes", "no"))
    assert msg.text == "Привіт, 123"
    assert [(e.type, e.offset, e.length) for e in msg.entities or []] == [("bold", 0, 6)]
    assert dump(msg.reply_markup) == dump(keyboard("yes", "no"))
    assert msg.chat.id == CHAT and msg.chat.type == "private" and msg.from_user is not None
    assert msg.from_user.is_bot

    call = api.calls_of("sendMessage")[0]
    assert call.params["chat_id"] == CHAT and call.params["parse_mode"] == "HTML"
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"
    assert call.result["message_id"] == msg.message_id
    assert api.messages[CHAT][0]["text"] == "Привіт, 123"
    assert api.sent_count[CHAT] == 1


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("<b>x", "Can't find end tag corresponding to start tag b"),
        ("Tom & Jerry", 'Character "&" at byte offset 4'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
    ],
)
def test_parse_html_rejects(text: str, detail: str) -> None:
    with pytest.raises(HTMLParseError, match=re.escape(detail)):
        parse_html(text)


@pytest.mark.asyncio
async def test_invalid_html_is_refused(api_bot: tuple[FakeBotAPI, Bot]) -> None:
    api, bot = api_bot
    for text in ("a < b", "<foo>x</foo>", "<b>x", "Tom & Jerry"):
        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await bot.send_message(CHAT, text)
    assert [c.status for c in api.calls] == [400] * 4
    assert api.sent_count[CHAT] == 0 and CHAT not in api.messages


@pytest.mark.asyncio
async def test_valid_html_passes(api_bot: tuple[FakeBotAPI, Bot]) -> None:
    _, bot = api_bot
    msg = await bot.send_message(CHAT, "a &lt; b &amp; c &quot;d&quot; &#39;e&#x27;")
    assert msg.text == "a < b & c \"d\" 'e'"
    msg = await bot.send_message(CHAT, '<b>x</b> <a href="https://e.x">y</a>')
    assert msg.text == "x y"
    assert [(e.type, e.url) for e in msg.entities or []] == [
        ("bold", None),
        ("text_link", "https://e.x"),
    ]
    msg = await bot.send_message(
        CHAT,
        "<blockquote expandable><i>q</i></blockquote> <tg-spoiler>s</tg-spoiler> "
        '<pre><code class="language-python">x = 1</code></pre>',
    )
    assert [(e.type, e.language) for e in msg.entities or []] == [
        ("expandable_blockquote", None),
        ("italic", None),
        ("spoiler", None),
        ("pre", "python"),
    ]
    # no parse mode: "<" is just a character
    msg = await bot.send_message(CHAT, "a < b & c", parse_mode=None)
    assert msg.text == "a < b & c" and not msg.entities


@pytest.mark.asyncio
async def test_length_limits(api_bot: tuple[FakeBotAPI, Bot]) -> None:
    _, bot = api_bot
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    assert len((await bot.send_message(CHAT, "x" * 4096)).text or "") == 4096
    # the limit counts visible characters: tags and entities do not count
    await bot.send_message(CHAT, "<b>" + "&amp;" * 2048 + "</b><i>" + "y" * 2048 + "</i>")
    for empty in ("", "   \n", "<b></b>"):
        with pytest.raises(TelegramBadRequest, match="message text is empty"):
            await bot.send_message(CHAT, empty)


@pytest.mark.asyncio
async def test_edit_message_text(api_bot: tuple[FakeBotAPI, Bot]) -> None:
    api, bot = api_bot
    msg = await bot.send_message(CHAT, "<b>one</b>", reply_markup=keyboard("a"))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "<b>one</b>", chat_id=CHAT, message_id=msg.message_id, reply_markup=keyboard("a")
        )
    # same text, other markup is a modification
    edited = await bot.edit_message_text(
        "<b>one</b>", chat_id=CHAT, message_id=msg.message_id, reply_markup=keyboard("b")
    )
    assert not isinstance(edited, bool) and dump(edited.reply_markup) == dump(keyboard("b"))
    edited = await bot.edit_message_text("two", chat_id=CHAT, message_id=msg.message_id)
    assert not isinstance(edited, bool) and edited.text == "two"
    # stored in place; omitting reply_markup removes the keyboard, as on Telegram
    assert len(api.messages[CHAT]) == 1
    stored = api.messages[CHAT][0]
    assert stored["text"] == "two" and "reply_markup" not in stored and "entities" not in stored
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=CHAT, message_id=999)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.edit_message_text("<b>x", chat_id=CHAT, message_id=msg.message_id)
    assert await bot.delete_message(CHAT, msg.message_id) is True
    assert api.messages[CHAT] == []
    assert api.sent_count[CHAT] == 1  # edits are not sends


@pytest.mark.asyncio
async def test_long_poll(api_bot: tuple[FakeBotAPI, Bot]) -> None:
    api, bot = api_bot
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert 0.9 <= time.monotonic() - started < 2.0

    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    update_id = api.push_message(CHAT, "/start@cso_test_bot hello", first_name="Олена")
    updates = await poll
    assert time.monotonic() - started < 0.5  # answered on push, not at the timeout
    assert [u.update_id for u in updates] == [update_id]
    message = updates[0].message
    assert message is not None and message.text == "/start@cso_test_bot hello"
    assert message.from_user is not None and message.from_user.language_code == "uk"
    assert message.chat.first_name == "Олена"
    assert [(e.type, e.offset, e.length) for e in message.entities or []] == [
        ("bot_command", 0, 19),
    ]


@pytest.mark.asyncio
async def test_offset_confirms_updates(api_bot: tuple[FakeBotAPI, Bot]) -> None:
    api, bot = api_bot
    first = api.push_message(CHAT, "one")
    second = api.push_message(CHAT, "two")
    assert [u.update_id for u in await bot.get_updates()] == [first, second]
    assert [u.update_id for u in await bot.get_updates()] == [first, second]  # unconfirmed
    assert [u.update_id for u in await bot.get_updates(offset=second)] == [second]
    assert await bot.get_updates(offset=second + 1, timeout=0) == []
    assert api.offsets == [None, None, second, second + 1]
    assert api.confirmed_update_id == second
    third = api.push_message(CHAT, "three")
    assert [u.update_id for u in await bot.get_updates(offset=second + 1)] == [third]


@pytest.mark.asyncio
async def test_push_callback_round_trip(api_bot: tuple[FakeBotAPI, Bot]) -> None:
    api, bot = api_bot
    sent = await bot.send_message(CHAT, "Підтвердити?", reply_markup=keyboard("yes", "no"))
    update_id = api.push_callback(CHAT, "yes", message_id=sent.message_id)
    (update,) = await bot.get_updates(timeout=1)
    query = update.callback_query
    assert update.update_id == update_id and query is not None
    assert query.data == "yes" and query.from_user.id == CHAT and query.chat_instance
    assert query.message is not None and query.message.message_id == sent.message_id
    assert dump(query.message.reply_markup) == dump(keyboard("yes", "no"))  # type: ignore[union-attr]

    assert await bot.answer_callback_query(query.id, text="OK") is True
    assert api.callback_answers[query.id]["text"] == "OK"
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(KeyError):
        api.push_callback(CHAT, "yes", message_id=999)


@pytest.mark.asyncio
async def test_wait_for_reply(api_bot: tuple[FakeBotAPI, Bot]) -> None:
    api, bot = api_bot
    mark = len(api.calls)

    async def reply_later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(CHAT + 1, "not for this chat")
        await bot.send_message(CHAT, "<i>hi</i>")

    task = asyncio.create_task(reply_later())
    reply = await api.wait_for_reply(CHAT, after=mark, timeout=2)
    await task
    assert reply.method == "sendMessage" and reply.result["text"] == "hi"
    assert reply.index == len(api.calls) - 1

    with pytest.raises(TelegramBadRequest):
        await bot.send_message(CHAT, "1 < 2")
    with pytest.raises(AssertionError, match="can't parse entities"):
        await api.wait_for_reply(CHAT, after=reply.index + 1, timeout=1)
    with pytest.raises(TimeoutError):
        await api.wait_for(lambda c: c.method == "sendPhoto", timeout=0.1)


@pytest.mark.asyncio
async def test_commands_and_startup_calls(api_bot: tuple[FakeBotAPI, Bot]) -> None:
    api, bot = api_bot
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    commands = [BotCommand(command="start", description="Почати")]
    scope = BotCommandScopeChat(chat_id=CHAT)
    assert await bot.set_my_commands(commands, scope=scope, language_code="uk") is True
    assert dump(await bot.get_my_commands(scope=scope, language_code="uk")) == dump(commands)
    assert await bot.get_my_commands() == []
    key = ('{"chat_id": 4242, "type": "chat"}', "uk")
    assert api.commands[key] == [{"command": "start", "description": "Почати"}]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="x")])
    assert await bot.delete_my_commands(scope=scope, language_code="uk") is True
    assert key not in api.commands
    assert await bot.send_chat_action(CHAT, "typing") is True
    assert (await bot.get_webhook_info()).url == ""


@pytest.mark.asyncio
async def test_send_document_and_photo(api_bot: tuple[FakeBotAPI, Bot]) -> None:
    api, bot = api_bot
    data = b"%PDF-1.4 fake report"
    msg = await bot.send_document(
        CHAT, BufferedInputFile(data, filename="звіт.pdf"), caption="<b>Звіт</b> за травень"
    )
    assert msg.document is not None and msg.document.file_name == "звіт.pdf"
    assert msg.document.file_size == len(data) and msg.document.mime_type == "application/pdf"
    assert msg.caption == "Звіт за травень"
    assert [(e.type, e.length) for e in msg.caption_entities or []] == [("bold", 4)]
    assert api.uploads[-1]["filename"] == "звіт.pdf" and api.uploads[-1]["size"] == len(data)
    (upload,) = api.calls_of("sendDocument")[0].files.values()
    assert upload.data == data

    photo = await bot.send_photo(CHAT, BufferedInputFile(b"\x89PNG....", filename="chart.png"))
    assert photo.photo and photo.photo[-1].file_size == 8
    assert api.sent_count[CHAT] == 2

    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_document(CHAT, BufferedInputFile(data, "a.pdf"), caption="<i>c</i>" * 1025)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_document(CHAT, BufferedInputFile(data, "a.pdf"), caption="R&D")


@pytest.mark.asyncio
async def test_blocked_and_unknown_chats() -> None:
    async with running(blocked_chats={1}, unknown_chats={2}) as (api, bot):
        with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
            await bot.send_message(1, "hi")
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(2, "hi")
        with pytest.raises(TelegramForbiddenError):
            await bot.send_document(1, BufferedInputFile(b"x", "x.txt"))
        await bot.send_message(3, "hi")
        assert api.sent_count == {3: 1}


@pytest.mark.asyncio
async def test_rate_limit() -> None:
    async with running(rate_limit=2) as (api, bot):
        await bot.send_message(1, "a")
        await bot.send_message(2, "b")
        with pytest.raises(TelegramRetryAfter) as global_limit:
            await bot.send_message(3, "c")
        assert global_limit.value.retry_after >= 1
        assert "Too Many Requests: retry after" in global_limit.value.message
        assert api.too_many_requests == 1

    async with running(rate_limit=30) as (api, bot):
        await bot.send_message(1, "a")
        with pytest.raises(TelegramRetryAfter) as chat_limit:
            await bot.send_message(1, "b")  # more than 1 message per second to one chat
        assert chat_limit.value.retry_after >= 1
        await bot.send_message(2, "c")
        call = api.calls[1]
        assert call.status == 429
        assert call.response["parameters"] == {"retry_after": chat_limit.value.retry_after}
        assert api.too_many_requests == 1 and api.sent_count == {1: 1, 2: 1}


@pytest.mark.asyncio
async def test_flaky() -> None:
    async with running(flaky_every=2) as (api, bot):
        await bot.send_message(1, "a")
        with pytest.raises(TelegramServerError, match="Bad Gateway"):
            await bot.send_message(1, "b")
        await bot.send_message(1, "c")
        await bot.get_me()  # not a send: never flaky
        assert [c.status for c in api.calls] == [200, 502, 200, 200]
        assert api.sent_count[1] == 2


@pytest.mark.asyncio
async def test_dispatcher_polling_round_trip(api_bot: tuple[FakeBotAPI, Bot]) -> None:
    """The way the bot process uses the server: a Dispatcher long-polling it."""
    api, bot = api_bot
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        name = message.chat.first_name
        await message.answer(f"Вітаю, <b>{name}</b>", reply_markup=keyboard("go"))

    @dp.callback_query(F.data == "go")
    async def go(query: CallbackQuery) -> None:
        await query.answer()
        assert isinstance(query.message, Message)
        await query.message.edit_text("Поїхали")

    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        mark = len(api.calls)
        first = api.push_message(CHAT, "/start", first_name="Олена")
        reply = await api.wait_for_reply(CHAT, after=mark, timeout=5)
        assert reply.result["text"] == "Вітаю, Олена"

        mark = len(api.calls)
        second = api.push_callback(CHAT, "go", message_id=reply.result["message_id"])
        edit = await api.wait_for_reply(CHAT, after=mark, timeout=5)
        assert edit.method == "editMessageText"
        assert api.messages[CHAT] == [edit.result] and "reply_markup" not in edit.result
        assert len(api.callback_answers) == 1

        await api.wait_confirmed(second, timeout=3)
        assert api.offsets == [None, first + 1, second + 1]
    finally:
        await dp.stop_polling()
        await polling


@pytest.mark.asyncio
async def test_second_poller_conflicts_and_stop_releases_polls() -> None:
    async with running() as (api, bot):
        other = make_bot(api)
        try:
            older = asyncio.create_task(bot.get_updates(timeout=30))
            await asyncio.sleep(0.05)
            newer = asyncio.create_task(other.get_updates(timeout=30))
            with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
                await older
            await asyncio.sleep(0.05)
            started = time.monotonic()
            await api.stop()  # must not wait for the 30 s poll
            assert await newer == []
            assert time.monotonic() - started < 1.5
        finally:
            await other.session.close()
