"""Two `cso-bot run` webhook workers on one database and one Redis, as behind a proxy.

Updates are posted to the workers' webhooks (alternately, or to both at once) with the secret
header, as Telegram through nginx would; both answer through one fake Bot API that enforces
Telegram's 30 messages a second. Each child's log goes to a file, shown when a test fails.
The database is an SQLite file and a PostgreSQL server in turn (the `backend` fixture).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from db import Database
from fakes.bot_api import FakeBotAPI
from fakes.servers import NginxProxy, free_port
from tests.servers import start_or_skip
from tests.test_two_processes import Bot as Process
from tests.test_two_processes import spawn_run, stop_bot

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:WORKERS-token"
SECRET = "workers-secret"
MEMBER = 4242
LEASE = 2.0  # seconds: a quick takeover for the test (LEADER_LEASE)
NOW = datetime(2026, 11, 1, 10, tzinfo=UTC)


class Worker(Process):
    """A `cso-bot run` child in webhook mode and the port its server listens on."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path, port: int) -> None:
        super().__init__(process, log)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"


async def start_worker(
    api: FakeBotAPI, shared: Shared, redis_url: str, name: str, *extra: str
) -> Worker:
    port = free_port()
    process, log = await spawn_run(
        api, shared.target, name, *extra, folder=shared.folder,
        WEBHOOK_URL="https://bot.example.org/webhook", WEBHOOK_SECRET=SECRET,
        WEBHOOK_HOST="127.0.0.1", WEBHOOK_PORT=str(port), REDIS_URL=redis_url,
        LEADER_LEASE=str(LEASE),
    )  # fmt: skip
    worker = Worker(process, log, port)
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"{worker.url}/healthz") as response:
                    if response.status == 200:
                        return worker
            except aiohttp.ClientError:
                pass
            if process.returncode is not None or time.monotonic() > deadline:
                if process.returncode is None:
                    process.kill()
                await process.wait()
                pytest.fail(f"{name} never became healthy; its log:\n{worker.output()}")
            await asyncio.sleep(0.2)


class Poster:
    """Telegram's side of the webhook: posts an update the fake API queued to a worker."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api
        self.http = aiohttp.ClientSession()

    async def post(self, worker: Worker, update: dict[str, Any]) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with self.http.post(f"{worker.url}/webhook", json=update, headers=headers) as r:
            assert r.status == 200, await r.text()

    def message(self, chat: int, text: str) -> dict[str, Any]:
        self.api.push_message(chat, text)
        return self.api.pushed[-1]

    def tap(self, chat: int, label: str) -> dict[str, Any]:
        """The update of pressing the button labelled `label` on the bot's newest keyboard."""
        for message in reversed(self.api.messages.get(chat, [])):
            keyboard = (message.get("reply_markup") or {}).get("inline_keyboard") or []
            for row in keyboard:
                for button in row:
                    if label in button.get("text", "") and "callback_data" in button:
                        self.api.push_callback(
                            chat, button["callback_data"], message_id=message["message_id"]
                        )
                        return self.api.pushed[-1]
        said = [m.get("text", "")[:60] for m in self.api.messages.get(chat, [])[-3:]]
        raise AssertionError(f"no button {label!r} in chat {chat}; the bot said {said}")

    async def say(self, worker: Worker, chat: int, update: dict[str, Any]) -> None:
        """Post and wait for the bot's answer to it."""
        after = len(self.api.calls)
        await self.post(worker, update)
        await self.api.wait_for_reply(chat, after=after, timeout=30)
        # An answer may be several requests (an edit, then the next question): all of them.
        seen = -1
        while seen != len(self.api.calls):
            seen = len(self.api.calls)
            await asyncio.sleep(0.3)

    async def close(self) -> None:
        await self.http.close()


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(TOKEN, rate_limit=30, chat_burst=3) as server:
        yield server


@pytest.fixture
async def poster(api: FakeBotAPI) -> AsyncIterator[Poster]:
    poster = Poster(api)
    yield poster
    await poster.close()


@dataclass(frozen=True)
class Shared:
    """The database both workers use (a file or a URL) and the folder of their logs."""

    target: Path | str
    folder: Path

    async def rows(self, sql: str) -> list[tuple[object, ...]]:
        db = await Database.open(self.target)
        try:
            async with db.read() as repo:
                return [tuple(row) for row in await repo.conn.fetch_all(sql)]
        finally:
            await db.close()


@pytest.fixture
async def shared(database_target: Path | str, tmp_path: Path) -> Shared:
    """The shared database, migrated, with a verified organisation MEMBER belongs to."""
    db = await Database.open(database_target)
    try:
        async with db.transaction() as repo:
            org = await repo.organisations.create("ГО «Рух»", edrpou="14360570", status="verified")
            await repo.memberships.request(MEMBER, org.id, approved=True)
    finally:
        await db.close()
    return Shared(database_target, tmp_path)


@pytest.fixture
async def workers(
    api: FakeBotAPI, shared: Shared, redis_url: str
) -> AsyncIterator[tuple[Worker, Worker]]:
    first, second = await asyncio.gather(
        start_worker(api, shared, redis_url, "first"),
        start_worker(api, shared, redis_url, "second"),
    )
    try:
        yield first, second
    except BaseException:
        print(f"--- first ---\n{first.output()}\n--- second ---\n{second.output()}")
        raise
    finally:
        for worker in (first, second):
            if worker.process.returncode is None:
                await stop_bot(worker)


async def test_a_dialog_begun_on_one_worker_is_finished_on_the_other_and_stored_once(
    workers: tuple[Worker, Worker], poster: Poster, shared: Shared
) -> None:
    steps: list[str | tuple[str, str]] = [
        "/activity", "2.4.4", "10.10.2024", "Міський форум ІГС", ("tap", "Пропустити"),
        ("tap", "1"), "24", "22", ("tap", "Пропустити"), "https://example.org/forum",
    ]  # fmt: skip
    for number, step in enumerate(steps):
        worker = workers[number % 2]  # alternately, as a proxy spreads them
        if isinstance(step, tuple):
            await poster.say(worker, MEMBER, poster.tap(MEMBER, step[1]))
        else:
            await poster.say(worker, MEMBER, poster.message(MEMBER, step))
    # A double tap on "submit", each tap received by another worker at the same moment.
    taps = [poster.tap(MEMBER, "Надіслати"), poster.tap(MEMBER, "Надіслати")]
    await asyncio.gather(*(poster.post(w, tap) for w, tap in zip(workers, taps, strict=True)))
    deadline = time.monotonic() + 30
    while await shared.rows("SELECT count(*) FROM received_updates WHERE handled_at IS NULL") != [
        (0,)
    ]:
        assert time.monotonic() < deadline, "updates left unhandled"
        await asyncio.sleep(0.2)
    reports = await shared.rows("SELECT title FROM activities")
    assert reports == [("Міський форум ІГС",)], reports


async def test_100_people_writing_to_both_workers_at_once_lose_nothing(
    workers: tuple[Worker, Worker], poster: Poster, api: FakeBotAPI, shared: Shared
) -> None:
    first, second = workers
    people = range(5001, 5101)

    async def one(person: int) -> None:
        # Two messages at once, one to each worker; and the first re-sent by "Telegram" to the
        # other worker (no 200 seen): handled once all the same.
        hello, menu = poster.message(person, "/start"), poster.message(person, "/plan")
        await asyncio.gather(
            poster.post(first, hello), poster.post(second, menu), poster.post(second, hello)
        )

    started = time.monotonic()
    await asyncio.gather(*(one(person) for person in people))
    deadline = time.monotonic() + 90

    def answered(person: int) -> int:
        return sum(
            1
            for c in api.calls
            if c.ok and c.method == "sendMessage" and c.params.get("chat_id") == person
        )

    while any(answered(p) < 2 for p in people):
        assert time.monotonic() < deadline, [p for p in people if answered(p) < 2][:10]
        await asyncio.sleep(0.2)
    elapsed = time.monotonic() - started
    await asyncio.sleep(1.0)  # a duplicate answer would arrive about now
    assert all(answered(p) == 2 for p in people), {p: answered(p) for p in people}
    handled = await shared.rows("SELECT count(*), count(handled_at) FROM received_updates")
    assert handled == [(200, 200)], handled
    # The one budget in Redis kept both workers together under the API's 30/s: two budgets of
    # 25/s would meet dozens of 429s here. A slot is taken before the request travels, so on a
    # loaded machine a late request may still bunch with the next ones and meet one; it is
    # honoured and retried (every answer above arrived exactly once). tests/test_redis.py shows
    # the shared budget alone with no 429 at all.
    assert api.too_many_requests <= 3, api.too_many_requests
    sends = sorted(c.at for c in api.calls if c.method == "sendMessage" and c.ok)
    busiest = max(sum(1 for t in sends[i:] if t < start + 1.0) for i, start in enumerate(sends))
    assert busiest <= 30, busiest
    print(
        f"\n100 people × 2 messages to 2 workers: 200 answers in {elapsed:.1f} s, "
        f"busiest second {busiest} messages, {api.too_many_requests} × 429"
    )


async def _leader_pid(redis: Redis) -> int:
    deadline = time.monotonic() + 30
    while (holder := await redis.get(f"cso-bot:{TOKEN.split(':')[0]}:scheduler-leader")) is None:
        assert time.monotonic() < deadline, "nobody leads"
        await asyncio.sleep(0.1)
    return int(holder.decode().split(":")[1])


async def test_killing_the_leader_hands_the_schedule_to_the_other(
    api: FakeBotAPI, shared: Shared, redis_url: str
) -> None:
    """A newsletter left 'sending' is resumed by the leader; SIGKILL it mid-send: the other
    worker takes the lease within the lease period and finishes the send."""
    subscribers = range(30_001, 30_151)
    db = await Database.open(shared.target)
    try:
        async with db.transaction() as repo:
            for chat in subscribers:
                await repo.subscribers.subscribe(chat, chat, NOW)
            newsletter = await repo.newsletters.create(
                "2026-11", ["Новини"], NOW, status="approved"
            )
            await repo.newsletters.start_sending(newsletter, NOW)
    finally:
        await db.close()
    redis = Redis.from_url(redis_url)
    workers = await asyncio.gather(
        start_worker(api, shared, redis_url, "first"),
        start_worker(api, shared, redis_url, "second"),
    )
    try:
        leader_pid = await _leader_pid(redis)
        leader = next(w for w in workers if w.process.pid == leader_pid)
        follower = next(w for w in workers if w is not leader)
        await api.wait_for(lambda c: sum(api.sent_count[s] for s in subscribers) >= 30, 30)
        leader.process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await leader.process.wait()
        assert await _leader_pid_after(redis, leader_pid) == follower.process.pid
        took = time.monotonic() - killed
        assert took <= LEASE * 3, took  # the lease and a follower's look, busy machine
        deadline = time.monotonic() + 60
        while any(api.sent_count[s] == 0 for s in subscribers):
            assert time.monotonic() < deadline, "the send was not finished"
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)
        log = await stop_bot(follower)
    except BaseException:
        print("\n".join(f"--- {w.log.name} ---\n{w.output()}" for w in workers))
        raise
    finally:
        for worker in workers:
            if worker.process.returncode is None:
                worker.process.kill()
                await worker.process.wait()
        await redis.aclose()
    assert "this process is the scheduler leader now" in log
    copies = [api.sent_count[s] for s in subscribers]
    # At worst the few sends in flight at the kill go twice (as after any crash).
    assert all(c >= 1 for c in copies) and sum(c - 1 for c in copies) <= 8, copies
    assert await shared.rows(f"SELECT status FROM newsletters WHERE id = {newsletter}") == [
        ("sent",)
    ]
    print(f"\nleader killed: the other led after {took:.1f} s (lease {LEASE:g} s)")


async def _leader_pid_after(redis: Redis, dead: int) -> int:
    deadline = time.monotonic() + LEASE * 3
    while (pid := await _leader_pid(redis)) == dead:
        assert time.monotonic() < deadline, "the lease was never taken over"
        await asyncio.sleep(0.05)
    return pid


async def test_a_pure_worker_never_leads(api: FakeBotAPI, shared: Shared, redis_url: str) -> None:
    worker = await start_worker(api, shared, redis_url, "pure", "--no-scheduler")
    redis = Redis.from_url(redis_url)
    try:
        await asyncio.sleep(LEASE)
        assert await redis.get(f"cso-bot:{TOKEN.split(':')[0]}:scheduler-leader") is None
    finally:
        await redis.aclose()
        log = await stop_bot(worker)
    assert "scheduler leader" not in log
    # Telegram's webhook was never touched by a worker: registering it is a deploy step.
    assert not api.calls_of("setWebhook")


async def test_behind_the_deployed_nginx_site_the_workers_answer(
    workers: tuple[Worker, Worker], api: FakeBotAPI, tmp_path: Path
) -> None:
    """deploy/nginx/cso-bot.conf, on loopback, in front of both workers: the secret header
    reaches them, /healthz answers, and updates spread over both are all answered."""
    directory = tmp_path / "nginx"
    directory.mkdir()
    proxy = start_or_skip(lambda: NginxProxy(directory, [w.port for w in workers]))
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as http:
            async with http.get(f"{proxy.url}/healthz") as response:
                assert response.status == 200
                assert (await response.json())["redis"] == "ok"
            update = {"update_id": 1, "message": {}}
            async with http.post(f"{proxy.url}/webhook", json=update) as response:
                assert response.status == 401  # no secret: the worker refuses, nginx passes it
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            people = range(7001, 7021)
            for person in people:
                api.push_message(person, "/start")
                async with http.post(
                    f"{proxy.url}/webhook", json=api.pushed[-1], headers=headers
                ) as response:
                    assert response.status == 200, await response.text()
            for person in people:
                await api.wait_for_reply(person, timeout=30)
    finally:
        proxy.stop()
    assert all(api.sent_count[p] >= 1 for p in people)
