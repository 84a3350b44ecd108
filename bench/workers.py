"""Real `cso-bot run` processes against a fake Bot API that enforces Telegram's 30 messages/s.

Two figures (bench/RESULTS.md):

- `newsletter`: one process sends a newsletter to 500 subscribers at full rate while 100 other
  people converse: every reply delivered, every subscriber one copy, every 429 honoured, and
  the reply latency p50/p99 during the send.
- `nginx`: webhook workers behind deploy/'s nginx site on loopback, sharing one database file
  and one Redis; people converse through nginx; 1 worker, then 3: no lost update, no error,
  the combined send rate under the limit, throughput and p50/p99.

    python -m bench.workers newsletter [--subscribers 500] [--people 100]
    python -m bench.workers nginx [--workers 1 3] [--people 200] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import TOKEN, bench_env, emit, percentile
from fakes.bot_api import FakeBotAPI
from fakes.servers import NginxProxy, RedisServer, free_port

SAY = ["/start", "/plan", "форум", "/measure 1.1.1", "/search молодь", "/help"]
FIRST_PERSON = 200_000
THINK = (2.0, 8.0)  # seconds between an answer and the next message, as bench.load
SECRET = "bench-secret"  # noqa: S105 - not a secret: a local fake API
NOW = datetime(2026, 11, 1, 10, tzinfo=UTC)
Post = Callable[[dict[str, Any]], Awaitable[None]]


class Person:
    """Says one thing after another, each after the answer to the last and a short pause."""

    def __init__(self, chat: int, api: FakeBotAPI, post: Post, rng: random.Random) -> None:
        self.chat = chat
        self.api = api
        self.post = post
        self.rng = rng
        self.latencies: list[tuple[float, float]] = []  # (sent at, seconds to the answer)
        self.unanswered = 0

    async def converse(self, until: Callable[[], bool], think: tuple[float, float]) -> None:
        while not until():
            text = self.rng.choice(SAY)
            after = len(self.api.calls)
            self.api.push_message(self.chat, text)
            update = self.api.pushed[-1]
            sent = time.monotonic()
            await self.post(update)
            try:
                reply = await self.api.wait_for_reply(self.chat, after=after, timeout=60)
            except TimeoutError:
                self.unanswered += 1
                continue
            self.latencies.append((sent, reply.at - sent))
            await asyncio.sleep(self.rng.uniform(*think))


def _rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(database)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def busiest_second(api: FakeBotAPI) -> int:
    sends = sorted(c.at for c in api.calls if c.ok and c.method.startswith(("send", "edit")))
    most, start = 0, 0
    for end, at in enumerate(sends):
        while sends[start] <= at - 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def _spawn(
    database: Path, log: Path, api: FakeBotAPI, *args: str, **env: str
) -> asyncio.subprocess.Process:
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", *args,
            cwd=str(database.parent), stdout=out, stderr=asyncio.subprocess.STDOUT,
            env=bench_env(
                BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.url, DATABASE_PATH=str(database),
                COORDINATOR_IDS="1", LOG_LEVEL="INFO", **env,
            ),
        )  # fmt: skip


async def _stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), timeout=60)


def _problems(log: Path) -> list[str]:
    text = log.read_text(errors="replace")
    return [line for line in text.splitlines() if "Traceback" in line or " ERROR " in line][:10]


# -- a newsletter to 500 while 100 people converse ---------------------------------------------


async def newsletter(subscribers: int, people: int) -> dict[str, Any]:
    from db import Database

    with tempfile.TemporaryDirectory(prefix="cso-bench-workers-") as tmp:
        database = Path(tmp) / "bot.sqlite3"
        db = await Database.open(database)
        try:
            async with db.transaction() as repo:
                for chat in range(1, subscribers + 1):
                    await repo.subscribers.subscribe(chat + 1000, chat + 1000, NOW)
                issue = await repo.newsletters.create(
                    "2026-11", ["Новини"], NOW, status="approved"
                )
                # Left 'sending': the bot resumes it the moment it starts, at full rate.
                await repo.newsletters.start_sending(issue, NOW)
        finally:
            await db.close()
        readers = range(1001, 1001 + subscribers)
        async with FakeBotAPI(TOKEN, rate_limit=30, chat_burst=3) as api:
            log = Path(tmp) / "bot.log"
            bot = await _spawn(database, log, api)
            await api.wait_polling(timeout=120)

            async def polled(_: dict[str, Any]) -> None:
                return None  # queued by push_message; the bot's getUpdates takes it

            crowd = [
                Person(FIRST_PERSON + n, api, polled, random.Random(n)) for n in range(people)
            ]

            def sent_out() -> bool:
                return all(api.sent_count[c] for c in readers)

            started = time.monotonic()
            await asyncio.gather(*(p.converse(sent_out, THINK) for p in crowd))
            elapsed = time.monotonic() - started
            await asyncio.sleep(2.0)  # a duplicate copy would arrive about now
            exit_code = await _stop(bot)
        first_copy = min(c.at for c in api.calls if c.params.get("chat_id") in readers)
        last_copy = max(c.at for c in api.calls if c.ok and c.params.get("chat_id") in readers)
        during = [lat for p in crowd for at, lat in p.latencies if first_copy <= at <= last_copy]
        copies = [api.sent_count[c] for c in readers]
        return {
            "subscribers": subscribers,
            "people": people,
            "send_s": last_copy - first_copy,
            "newsletter_per_s": subscribers / (last_copy - first_copy),
            "subscribers_with_one_copy": sum(1 for c in copies if c == 1),
            "subscribers_with_more": sum(1 for c in copies if c > 1),
            "replies": sum(len(p.latencies) for p in crowd),
            "unanswered": sum(p.unanswered for p in crowd),
            "replies_during_send": len(during),
            "p50_ms": percentile(during, 0.5) * 1000,
            "p99_ms": percentile(during, 0.99) * 1000,
            "max_ms": max(during, default=0) * 1000,
            "too_many_requests": api.too_many_requests,
            "busiest_second": busiest_second(api),
            "wall_s": elapsed,
            "log_problems": _problems(log),
            "exit_code": exit_code,
        }


# -- workers behind nginx ----------------------------------------------------------------------


async def behind_nginx(workers: int, people: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cso-bench-nginx-") as tmp:
        base = Path(tmp)
        database = base / "bot.sqlite3"
        (base / "redis").mkdir()
        redis = RedisServer(base / "redis")
        ports = [free_port() for _ in range(workers)]
        async with FakeBotAPI(TOKEN, rate_limit=30, chat_burst=3) as api:
            logs = [base / f"worker{n}.log" for n in range(workers)]
            processes = []
            for n, port in enumerate(ports):
                processes.append(
                    await _spawn(
                        database, logs[n], api,
                        WEBHOOK_URL="https://bot.example.org/webhook", WEBHOOK_SECRET=SECRET,
                        WEBHOOK_HOST="127.0.0.1", WEBHOOK_PORT=str(port), REDIS_URL=redis.url,
                    )
                )  # fmt: skip
                if n == 0:  # the first migrates the new file; the others start after it
                    await _healthy(f"http://127.0.0.1:{port}/healthz")
            for port in ports:
                await _healthy(f"http://127.0.0.1:{port}/healthz")
            (base / "nginx").mkdir()
            proxy = NginxProxy(base / "nginx", ports)
            connector = aiohttp.TCPConnector(ssl=False, limit=200)
            errors: list[str] = []
            try:
                async with aiohttp.ClientSession(connector=connector) as http:

                    async def post(update: dict[str, Any]) -> None:
                        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                        async with http.post(
                            f"{proxy.url}/webhook", json=update, headers=headers
                        ) as response:
                            if response.status != 200:
                                errors.append(f"{response.status} {await response.text()}")

                    crowd = [
                        Person(FIRST_PERSON + n, api, post, random.Random(n))
                        for n in range(people)
                    ]
                    deadline = time.monotonic() + seconds
                    started = time.monotonic()
                    await asyncio.gather(
                        *(p.converse(lambda: time.monotonic() > deadline, THINK) for p in crowd)
                    )
                    elapsed = time.monotonic() - started
                await asyncio.sleep(2.0)
            finally:
                proxy.stop()
                codes = [await _stop(p) for p in processes]
                redis.stop()
        recorded, handled = _rows(
            database, "SELECT count(*), count(handled_at) FROM received_updates"
        )[0]
        latencies = [lat for p in crowd for _, lat in p.latencies]
        return {
            "workers": workers,
            "people": people,
            "seconds": seconds,
            "updates_posted": len(api.pushed),
            "updates_recorded": recorded,
            "updates_handled": handled,
            "lost_updates": len(api.pushed) - handled,
            "answers": len(latencies),
            "answers_per_s": len(latencies) / elapsed,
            "unanswered": sum(p.unanswered for p in crowd),
            "proxy_errors": errors[:10],
            "p50_ms": percentile(latencies, 0.5) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
            "too_many_requests": api.too_many_requests,
            "busiest_second": busiest_second(api),
            "log_problems": [line for log in logs for line in _problems(log)],
            "exit_codes": codes,
        }


async def _healthy(url: str) -> None:
    deadline = time.monotonic() + 120
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} never answered 200")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    letter = modes.add_parser("newsletter")
    letter.add_argument("--subscribers", type=int, default=500)
    letter.add_argument("--people", type=int, default=100)
    proxy = modes.add_parser("nginx")
    proxy.add_argument("--workers", type=int, nargs="+", default=[1, 3])
    proxy.add_argument("--people", type=int, default=200)
    proxy.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    if args.mode == "newsletter":
        result = asyncio.run(newsletter(args.subscribers, args.people))
        emit("newsletter_while_conversing", result)
        ok = (
            result["subscribers_with_one_copy"] == result["subscribers"]
            and result["unanswered"] == 0
            and not result["log_problems"]
        )
    else:
        runs = [asyncio.run(behind_nginx(n, args.people, args.seconds)) for n in args.workers]
        emit("workers_behind_nginx", {"runs": runs})
        ok = all(
            r["lost_updates"] == 0
            and r["unanswered"] == 0
            and not r["proxy_errors"]
            and not r["log_problems"]
            and r["busiest_second"] <= 30
            for r in runs
        )
    print("PASS" if ok else "FAIL")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
