"""The one outgoing path (bot/outgoing.py) against the fake Bot API over HTTP."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError

from bot.outgoing import NEWSLETTER_EVERY, OutgoingPath, SendGate
from fakes.bot_api import FakeBotAPI
from scheduler.priority import Priority, sending_as

TOKEN = "123456:OUTGOING-secret"
FAST = (0.2, 0.4, 0.8, 1.6, 3.2)


class QuickSession(AiohttpSession):
    """No 250 ms SSL grace on close: nothing here is SSL."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


@asynccontextmanager
async def running(
    path: OutgoingPath | None = None, request_timeout: float = 60.0, **options: Any
) -> AsyncIterator[tuple[FakeBotAPI, Bot, OutgoingPath]]:
    path = path or OutgoingPath(100, retry_delays=FAST)
    async with FakeBotAPI(TOKEN, **options) as api:
        session = QuickSession(api=TelegramAPIServer.from_base(api.url), timeout=request_timeout)
        session.middleware(path)
        bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        try:
            yield api, bot, path
        finally:
            await session.close()


def delivered(api: FakeBotAPI) -> dict[int, int]:
    return dict(api.sent_count)


async def test_a_429_is_waited_out_by_every_sender_and_every_message_arrives() -> None:
    async with running(rate_limit=5) as (api, bot, path):
        await asyncio.gather(*(bot.send_message(chat, "hello") for chat in range(1, 13)))
    assert delivered(api) == {chat: 1 for chat in range(1, 13)}
    assert api.too_many_requests >= 1 and path.stats.flood_waits == api.too_many_requests
    # The send that met the 429 went again only after retry_after had passed.
    for refused in (c for c in api.calls if c.status == 429):
        chat = refused.params["chat_id"]
        accepted = next(c for c in api.calls if c.ok and c.params.get("chat_id") == chat)
        assert accepted.at - refused.at >= refused.response["parameters"]["retry_after"] - 0.05


async def test_the_global_rate_and_one_chat_pace_meet_no_429() -> None:
    path = OutgoingPath(25, chat_burst=3, retry_delays=FAST)
    async with running(path, rate_limit=30, chat_burst=3) as (api, bot, _):
        started = time.monotonic()
        await asyncio.gather(
            *(bot.send_message(chat, "hello") for chat in range(1, 41)),
            *(bot.send_message(777, f"part {n}") for n in range(5)),
        )
        elapsed = time.monotonic() - started
    assert api.too_many_requests == 0
    assert delivered(api)[777] == 5 and len(delivered(api)) == 41
    assert elapsed >= 44 / 25 - 0.1  # evenly spaced slots, never a burst of 45
    to_one_chat = [c.at for c in api.calls if c.params.get("chat_id") == 777]
    assert to_one_chat[3] - to_one_chat[0] >= 0.95  # after the burst of 3, one a second


async def test_a_person_who_is_waiting_goes_before_the_newsletter() -> None:
    path = OutgoingPath(10, retry_delays=FAST)
    async with running(path) as (api, bot, _):

        async def newsletter(chat: int) -> None:
            with sending_as(Priority.newsletter):
                await bot.send_message(chat, "issue")

        async def reply() -> None:
            await asyncio.sleep(0.15)  # the newsletter's 20 are queued by now
            with sending_as(Priority.reply):
                await bot.send_message(5000, "your answer")

        await asyncio.gather(*(newsletter(chat) for chat in range(1, 21)), reply())
    order = [c.params["chat_id"] for c in api.calls_of("sendMessage")]
    assert order.index(5000) <= 3, order


async def test_endless_replies_leave_the_newsletter_one_slot_in_ten() -> None:
    """Strict priority alone would give the newsletter nothing while replies keep waiting."""
    gate = SendGate(1_000_000)  # the pace plays no part: only who gets each slot is counted
    order: list[Priority] = []

    async def send(priority: Priority) -> None:
        await gate.acquire(priority, None)
        order.append(priority)

    # Every waiter queues before the first slot is handed out (tasks start in order), so the
    # order of the slots is the gate's choice alone: 200 replies always waiting, 10 copies.
    await asyncio.gather(
        *(send(Priority.reply) for _ in range(200)),
        *(send(Priority.newsletter) for _ in range(10)),
    )
    assert NEWSLETTER_EVERY == 10
    assert gate.granted == {Priority.reply: 200, Priority.newsletter: 10}
    slots = [n for n, priority in enumerate(order, 1) if priority is Priority.newsletter]
    assert slots == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]


async def test_the_newsletter_share_never_goes_before_a_reply_when_it_is_not_due() -> None:
    gate = SendGate(1_000_000)
    order: list[Priority] = []

    async def send(priority: Priority) -> None:
        await gate.acquire(priority, None)
        order.append(priority)

    await asyncio.gather(
        *(send(Priority.newsletter) for _ in range(3)),
        *(send(Priority.notification) for _ in range(4)),
        *(send(Priority.reply) for _ in range(4)),
    )
    # Fewer than ten others in front: strict priority, as before.
    assert order == [Priority.reply] * 4 + [Priority.notification] * 4 + [Priority.newsletter] * 3


async def test_5xx_for_a_while_is_retried_until_it_passes() -> None:
    async with running() as (api, bot, path):
        api.fail_for(1.5)
        await asyncio.gather(*(bot.send_message(chat, "hello") for chat in range(1, 6)))
    assert delivered(api) == {chat: 1 for chat in range(1, 6)}
    assert path.stats.retries >= 5


async def test_refused_connections_are_retried_until_the_api_is_back() -> None:
    async with running() as (api, bot, _):
        await api.go_offline()
        send = asyncio.create_task(bot.send_message(1, "hello"))
        await asyncio.sleep(1.0)
        assert not send.done()
        await api.go_online()
        await send
    assert delivered(api) == {1: 1}


async def test_after_a_timeout_a_send_is_not_repeated_but_an_edit_is() -> None:
    async with running(request_timeout=0.5) as (api, bot, _):
        sent = await bot.send_message(1, "first")
        api.hang_for(0.6, hang=1.0)
        with pytest.raises(TelegramNetworkError):
            await bot.send_message(1, "maybe delivered")
        await asyncio.sleep(0.7)
        api.hang_for(0.3, hang=1.0)
        await bot.edit_message_text("edited", chat_id=1, message_id=sent.message_id)
        await asyncio.sleep(1.2)  # the hung requests are answered (and recorded) by now
    assert len([c for c in api.calls_of("sendMessage") if "maybe" in c.params["text"]]) == 1
    assert len(api.calls_of("editMessageText")) >= 2


async def test_a_400_is_not_retried_and_logged_without_the_text() -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("bot.outgoing")
    logger.addHandler(handler)
    # tests/test_layers.py runs import-linter in-process, whose logging set-up disables every
    # logger that exists by then; and an earlier test's set-up may have raised the root's level.
    level, logger.level, disabled, logger.disabled = (
        logger.level,
        logging.INFO,
        logger.disabled,
        False,
    )
    try:
        async with running() as (api, bot, path):
            with pytest.raises(TelegramBadRequest):
                await bot.send_message(1, "secret <b>unclosed")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.disabled = disabled
    assert len(api.calls_of("sendMessage")) == 1 and path.stats.refused == 1
    logged = "\n".join(r.getMessage() for r in records)
    assert "sendMessage" in logged and "can't parse entities" in logged
    assert "secret" not in logged and TOKEN.split(":")[1] not in logged
