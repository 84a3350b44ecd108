"""The outbox over the fake Bot API: every message out once, what must wait waits and then goes,
a blocked chat is marked inactive, and coordinators see what could not be delivered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.utils.i18n import gettext as _

from bot.app import App
from bot.i18n import build_i18n
from db import Database
from db.outbox import NewMessage
from scheduler.notifier import Notifier
from tests.conftest import Chat, texts
from tests.faults import OutageBotAPI

TOKEN = "123456:OUTBOX-token"
NOW = datetime(2026, 11, 1, 8, tzinfo=UTC)
BLOCKED, UNKNOWN, READER = 601, 602, 603


@pytest.fixture
async def api() -> AsyncIterator[OutageBotAPI]:
    server = OutageBotAPI(TOKEN, blocked_chats=[BLOCKED], unknown_chats=[UNKNOWN])
    async with server:
        yield server


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "outbox.sqlite3")
    yield database
    await database.close()


@pytest.fixture
async def bot(api: OutageBotAPI) -> AsyncIterator[Bot]:
    bot = Bot(
        TOKEN,
        session=AiohttpSession(api=TelegramAPIServer.from_base(api.url)),
        default=DefaultBotProperties(parse_mode="HTML"),
    )
    yield bot
    await bot.session.close()


def _texts(api: OutageBotAPI, chat: int) -> list[str]:
    return [m.get("text", "") for m in api.messages.get(chat, [])]


async def test_each_reader_gets_it_in_their_language_and_a_blocked_chat_is_dropped(
    api: OutageBotAPI, db: Database, bot: Bot
) -> None:
    notifier = Notifier(db, build_i18n())
    async with db.transaction() as repo:
        await repo.users.ensure(READER, NOW)
        await repo.users.set_language(READER, "en")
        for chat in (BLOCKED, READER):
            await repo.subscribers.subscribe(chat, chat, NOW)
        ids = await notifier.enqueue(
            repo, [READER, BLOCKED, UNKNOWN, READER], lambda: _("Nothing was changed."), "test"
        )
    assert len(ids) == 3, "one message per person, however often named"
    told = await notifier.deliver(bot, ids)
    assert told == [READER]
    assert _texts(api, READER) == ["Nothing was changed."], "in the reader's own language"
    assert await notifier.deliver(bot) == [], "nothing goes twice"
    async with db.read() as repo:
        assert not await repo.subscribers.is_active_chat(BLOCKED), "403 marks the chat inactive"
        assert [s for s, _ in await repo.outbox.of_chat(UNKNOWN)] == ["failed"]
        assert await repo.outbox.troubles(NOW) == (0, 2)


@pytest.mark.parametrize("fault", ["unreachable", "server_errors"])
async def test_what_meets_an_outage_waits_and_the_loop_sends_it_once(
    api: OutageBotAPI, db: Database, bot: Bot, fault: str
) -> None:
    notifier = Notifier(db, build_i18n(), backoff=(0.5, 1.0))
    setattr(api, fault, True)
    told = await notifier.tell_series(bot, [READER], lambda: ["перше", "друге"])
    assert told == []
    async with db.read() as repo:
        assert [s for s, _ in await repo.outbox.of_chat(READER)] == ["pending", "pending"]
        assert (await repo.outbox.troubles(NOW))[0] == 1, "the first waits; the second behind it"
    notifier.start(bot)
    try:
        await asyncio.sleep(1.5)  # still down: the loop tries, and waits again
        setattr(api, fault, False)
        await api.wait_for(lambda c: len(_texts(api, READER)) == 2, timeout=15)
        await asyncio.sleep(1.5)
    finally:
        await notifier.stop()
    assert _texts(api, READER) == ["перше", "друге"], "once each, in order"


async def test_a_429_is_waited_out(api: OutageBotAPI, db: Database, bot: Bot) -> None:
    api.rate_limit = 0.2  # one message per 5 s: the second, right after the first, meets a 429
    notifier = Notifier(db, build_i18n())
    notifier.start(bot)
    try:
        told = await notifier.tell_series(bot, [READER], lambda: ["⏰ перше", "⏰ друге"])
        assert told == [], "the second met a 429 and waits"
        await api.wait_for(lambda c: len(_texts(api, READER)) == 2, timeout=20)
    finally:
        await notifier.stop()
    assert api.too_many_requests >= 1
    assert _texts(api, READER) == ["⏰ перше", "⏰ друге"]


async def test_coordinators_see_what_could_not_be_delivered(app: App, coordinator: Chat) -> None:
    async with app.db.transaction() as repo:
        (failed,) = await repo.outbox.add([NewMessage(999, "x")], "test", datetime.now(UTC))
        await repo.outbox.failed(failed, "Forbidden: bot was blocked by the user")
    text = texts(await coordinator.send("/newsletter"))
    assert "чекають на Telegram — 0, не вдалося доставити — 1" in text
