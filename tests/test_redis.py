"""REDIS_URL: dialog state and event isolation in Redis, the send budget shared by every
process, and the scheduler lease, against a real (throwaway) redis-server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from redis.asyncio import Redis

from bot.app import App, build_app, scheduler_lease
from bot.config import Secret, Settings
from bot.outgoing import OutgoingPath, SharedBudget
from bot.storage import DatabaseStorage
from fakes.bot_api import FakeBotAPI
from plan.clock import Clock
from scheduler.leader import FileLease, Leadership, Lease, RedisLease
from tests.conftest import Chat, texts
from tests.test_activity_reports import MEMBER_ID, _organisation

TOKEN = "123456:REDIS-token"
BOT_ID = 123456


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def two_apps(
    settings: Settings, clock: Clock, redis_url: str
) -> AsyncIterator[tuple[App, App]]:
    """Two workers on one database and one Redis, assembled as `cso-bot run` does."""
    shared = replace(settings, redis_url=Secret(redis_url))
    first = await build_app(shared, clock)
    second = await build_app(shared, clock)
    yield first, second
    await first.close()
    await second.close()


def _key(chat: Chat) -> StorageKey:
    return StorageKey(bot_id=chat.bot.id, chat_id=MEMBER_ID, user_id=MEMBER_ID)


async def test_with_redis_a_dialog_begun_on_one_worker_is_seen_by_the_other(
    two_apps: tuple[App, App],
) -> None:
    first, second = two_apps
    for app in two_apps:
        assert isinstance(app.dispatcher.storage, RedisStorage)
        assert isinstance(app.dispatcher.fsm.events_isolation, RedisEventIsolation)
    await _organisation(first, "ГО «Рух»", MEMBER_ID, "14360570")
    on_one, on_other = Chat(first, MEMBER_ID), Chat(second, MEMBER_ID)
    await on_one.send("/activity")
    key = _key(on_one)
    began = await first.dispatcher.storage.get_state(key)
    assert began is not None
    assert await second.dispatcher.storage.get_state(key) == began
    # The next answer, received by the other worker, moves the same dialog on.
    answer = texts(await on_other.send("2.4.4"))
    assert "2.4.4" in answer, answer
    assert (await first.dispatcher.storage.get_data(key)) == (
        await second.dispatcher.storage.get_data(key)
    )


async def test_without_redis_dialogs_stay_in_the_database(app: App) -> None:
    assert app.redis is None
    assert isinstance(app.dispatcher.storage, DatabaseStorage)
    assert isinstance(app.dispatcher.fsm.events_isolation, SimpleEventIsolation)


def _bot(api: FakeBotAPI, path: OutgoingPath) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api.url))
    session.middleware(path)
    return Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))


async def test_two_processes_share_one_budget_under_the_limit(redis: Redis) -> None:
    """Each path alone may send 25/s; sharing the budget, both together send 25/s, under the
    server's 30/s, so nothing meets a 429."""
    paths = [OutgoingPath(25, shared=SharedBudget(redis, BOT_ID, 1 / 25)) for _ in range(2)]
    async with FakeBotAPI(TOKEN, rate_limit=30) as api:
        bots = [_bot(api, path) for path in paths]
        started = time.monotonic()
        try:
            await asyncio.gather(
                *(
                    bot.send_message(100 * n + chat, "новини")
                    for n, bot in enumerate(bots)
                    for chat in range(1, 61)
                )
            )
        finally:
            for bot in bots:
                await bot.session.close()
        elapsed = time.monotonic() - started
    assert api.too_many_requests == 0
    assert sum(api.sent_count.values()) == 120
    # 120 slots 1/25 s apart: about 4.8 s; each process alone would have taken half of that.
    assert elapsed >= 119 / 25 * 0.95, elapsed
    print(f"\ntwo processes, one budget: 120 messages in {elapsed:.2f} s, 0 × 429")


async def test_a_429_in_one_process_pauses_the_other(redis: Redis) -> None:
    paths = [OutgoingPath(25, shared=SharedBudget(redis, BOT_ID, 1 / 25)) for _ in range(2)]
    async with FakeBotAPI(TOKEN) as api:
        first, second = (_bot(api, path) for path in paths)
        try:
            api.flood(retry_after=2)
            started = time.monotonic()
            await first.send_message(1, "перше")  # meets the 429, waits 2 s, goes again
            # The other process learns of the pause from Redis: its send waits for its end.
            await second.send_message(2, "друге")
            second_sent = max(c.at for c in api.calls_of("sendMessage") if c.ok)
        finally:
            await first.session.close()
            await second.session.close()
    assert paths[0].stats.flood_waits == 1
    assert second_sent - started >= 1.9


async def test_a_shared_pause_is_seen_before_any_request(redis: Redis) -> None:
    budget = SharedBudget(redis, BOT_ID, 1 / 25)
    other = SharedBudget(redis, BOT_ID, 1 / 25)
    assert await other.pause(0) == 0
    await budget.pause(1.5)
    left = await other.pause(0)
    assert left is not None and 1.0 < left <= 1.5


async def test_redis_unreachable_the_path_sends_at_its_own_pace() -> None:
    broken = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    path = OutgoingPath(50, shared=SharedBudget(broken, BOT_ID, 1 / 50))
    async with FakeBotAPI(TOKEN) as api:
        bot = _bot(api, path)
        try:
            await asyncio.gather(*(bot.send_message(c, "x") for c in range(1, 6)))
        finally:
            await bot.session.close()
            await broken.aclose()
    assert sum(api.sent_count.values()) == 5


# -- the scheduler lease ----------------------------------------------------------------------


async def _contend(first: Lease, second: Lease, period: float) -> float:
    """The first leads; it dies without a word; how long until the second leads."""
    elected: list[str] = []

    async def noting(name: str) -> None:
        elected.append(name)

    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    a = Leadership(first, period, lambda: noting("first"), stop_first.set)
    b = Leadership(second, period, lambda: noting("second"), stop_second.set)
    first_task = asyncio.create_task(a.run(stop_first))
    await asyncio.sleep(0.2)
    second_task = asyncio.create_task(b.run(stop_second))
    await asyncio.sleep(period)
    assert elected == ["first"] and a.leading and not b.leading  # one leader at a time
    died = time.monotonic()
    first_task.cancel()  # killed: it never releases its lease
    if isinstance(first, FileLease):
        await first.release()  # the kernel drops a dead process's lock
    while not b.leading:
        assert time.monotonic() - died < period * 3, "no takeover"
        await asyncio.sleep(0.05)
    took = time.monotonic() - died
    stop_second.set()
    await second_task
    await second.release()
    assert elected == ["first", "second"]
    return took


async def test_a_dead_redis_leader_is_replaced_within_the_lease(redis: Redis) -> None:
    period = 1.5
    first = RedisLease(redis, "cso-bot:test:leader", period)
    second = RedisLease(redis, "cso-bot:test:leader", period)
    took = await _contend(first, second, period)
    assert took <= period * 2, took


async def test_a_dead_file_leader_is_replaced_at_the_next_look(tmp_path: Path) -> None:
    lock = tmp_path / "bot.sqlite3.leader"
    took = await _contend(FileLease(lock), FileLease(lock), 0.6)
    assert took <= 1.2, took


async def test_a_leader_whose_lease_is_taken_stops(redis: Redis) -> None:
    lease = RedisLease(redis, "cso-bot:test:stolen", 1.0)
    stopped = asyncio.Event()

    async def nothing() -> None:
        return None

    leadership = Leadership(lease, 1.0, nothing, stopped.set)
    task = asyncio.create_task(leadership.run(stopped))
    await asyncio.sleep(0.1)
    assert leadership.leading
    await redis.set("cso-bot:test:stolen", "someone else")
    await asyncio.wait_for(task, 3)
    assert leadership.lost and stopped.is_set()


async def test_the_lease_follows_the_configuration(settings: Settings, redis: Redis) -> None:
    assert isinstance(scheduler_lease(settings, None, BOT_ID), FileLease)
    assert isinstance(scheduler_lease(settings, redis, BOT_ID), RedisLease)


async def test_a_leader_whose_scheduled_work_fails_to_start_stops(redis: Redis) -> None:
    lease = RedisLease(redis, "cso-bot:test:failing", 1.0)
    stopped = asyncio.Event()

    async def broken() -> None:
        raise RuntimeError("the database is gone")

    leadership = Leadership(lease, 1.0, broken, stopped.set)
    await asyncio.wait_for(leadership.run(stopped), 3)
    assert leadership.lost and stopped.is_set()


def test_redis_url_and_lease_are_read_and_checked() -> None:
    from bot.config import ConfigError, load_settings

    settings = load_settings(
        {"REDIS_URL": "redis://:pw@10.0.0.5:6379/2", "LEADER_LEASE": "12"}, dotenv=None
    )
    assert str(settings.redis_url) == "redis://:pw@10.0.0.5:6379/2"
    assert "pw" not in repr(settings)  # a password in the URL never shows
    assert settings.leader_lease == 12.0
    assert load_settings({}, dotenv=None).redis_url is None
    with pytest.raises(ConfigError, match="REDIS_URL must be") as refused:
        load_settings({"REDIS_URL": "http://:secret@host"}, dotenv=None)
    assert "secret" not in str(refused.value)
    with pytest.raises(ConfigError, match="LEADER_LEASE"):
        load_settings({"LEADER_LEASE": "0"}, dotenv=None)
