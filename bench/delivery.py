"""Newsletter delivery: scheduler/newsletter/delivery.py against FakeBotAPI over loopback HTTP.

The fake server runs in a process of its own (it records every call, so it grows), the engine in
another (so its peak RSS is the engine's alone). Cases:

* ceiling: 10,000 subscribers, sender limit 1,000/s, server without limit: the share of the
  sender's rate the engine reaches;
* unlimited: the same with the sender at 20,000/s, so the engine's own cost is the limit;
* memory: the same at 1,000 subscribers, to compare peak memory with 10,000;
* paced: 1,000 subscribers, server limit 30/s, the sender's default rate: the achieved rate as a
  share of the sender's rate and of the server's limit, and the number of 429s (10,000 would
  take ~7 minutes); paced_at_95: the sender at 28.5/s, 0.95 of the server's limit.

Every case counts the engine's trips to SQLite's thread per message sent.

    python -m bench.delivery [--quick]
    python -m bench.delivery --profile FILE   # the ceiling case, the engine under cProfile
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import TOKEN, TripCounter, emit

NOW = datetime(2026, 11, 1, 10, tzinfo=UTC)
PART = "<b>Розсилка за листопад</b>\nНовини партнерства: заходи, звіти, проєкти. &amp; ще."


async def serve(rate_limit: float | None) -> None:
    from fakes.bot_api import FakeBotAPI

    api = FakeBotAPI(TOKEN, rate_limit=rate_limit)
    print(await api.start(), flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await api.stop()


async def engine(url: str, subscribers: int, rate: float | None) -> dict[str, Any]:
    from aiogram import Bot
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    from bot.outgoing import DEFAULT_RATE, OutgoingPath
    from db import Database
    from scheduler.newsletter.delivery import DeliveryOptions, send_newsletter

    options = DeliveryOptions()
    rate = rate or DEFAULT_RATE
    with tempfile.TemporaryDirectory(prefix="cso-bench-delivery-") as tmp:
        db = await Database.open(Path(tmp) / "delivery.sqlite3")
        try:
            async with db.transaction() as repo:
                for chat in range(1, subscribers + 1):
                    await repo.subscribers.subscribe(chat, chat, NOW)
                newsletter = await repo.newsletters.create(
                    "2026-11", [PART], NOW, status="approved"
                )
            session = AiohttpSession(api=TelegramAPIServer.from_base(url))
            # The newsletter's pace is the bot's one outgoing path, as in `cso-bot run`.
            path = OutgoingPath(rate)
            session.middleware(path)
            bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
            started = time.perf_counter()
            try:
                with TripCounter() as trips:
                    summary = await send_newsletter(db, bot, newsletter, options)
            finally:
                await bot.session.close()
            elapsed = time.perf_counter() - started
        finally:
            await db.close()
    assert summary is not None
    return {
        "subscribers": subscribers,
        "sender_rate": rate,
        "concurrency": options.concurrency,
        "status": summary.status,
        "sent": summary.sent,
        "failed": summary.failed,
        "remaining": summary.remaining,
        "elapsed_s": elapsed,
        "messages_per_s": summary.rate,
        "share_of_sender_rate": summary.rate / rate,
        "db_trips_per_message": trips.trips / max(summary.messages, 1),
        "too_many_requests": summary.too_many_requests + path.stats.flood_waits,
        "retries": summary.retries,
    }


def run_case(
    subscribers: int, rate: float | None, server_limit: float | None, profile: str | None = None
) -> dict[str, Any]:
    here = [sys.executable, "-m", "bench.delivery"]
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [*here, "--serve", str(server_limit or 0)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        child = subprocess.Popen(  # noqa: S603
            [*here, "--engine", url, str(subscribers), str(rate or 0)]
            + (["--profile", profile] if profile else []),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        out = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.stdout.close()
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"delivery engine failed: {out}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["server_limit"] = server_limit
    result["engine_peak_rss_mb"] = usage.ru_maxrss / 1024
    if server_limit:
        result["share_of_server_limit"] = result["messages_per_s"] / server_limit
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--serve", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--engine", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument(
        "--profile", metavar="FILE", help="only the ceiling, the engine under cProfile into FILE"
    )
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(serve(args.serve or None))
        return
    if args.engine:
        url, subscribers, rate = args.engine
        work = engine(url, int(subscribers), float(rate) or None)
        if args.profile:
            with cProfile.Profile() as profiler:
                result = asyncio.run(work)
            profiler.dump_stats(args.profile)
        else:
            result = asyncio.run(work)
        print(json.dumps(result))
        return
    if args.profile:
        result = run_case(2_000 if args.quick else 10_000, 1000.0, None, args.profile)
        pstats.Stats(args.profile).sort_stats("tottime").print_stats(25)
        print(json.dumps(result))
        return
    big, small = (2_000, 200) if args.quick else (10_000, 1_000)
    ceiling = run_case(big, 1000.0, None)
    unlimited = run_case(big, 20_000.0, None)
    memory = run_case(small, 1000.0, None)
    paced = run_case(small, None, 30.0)
    # The default (25/s) keeps a margin under Telegram's ~30/s; 28.5/s is 0.95 of the server's
    # limit, to show what the margin costs and whether the pace alone keeps off 429s.
    paced_95 = run_case(small, 28.5, 30.0)
    emit(
        "delivery",
        {
            "ceiling": ceiling,
            "unlimited": unlimited,
            "memory_small": memory,
            "paced": paced,
            "paced_at_95": paced_95,
            "peak_rss_growth_small_to_big": ceiling["engine_peak_rss_mb"]
            / memory["engine_peak_rss_mb"],
            "targets": {
                "share_of_sender_rate": 0.95,
                "ceiling_messages_per_s": 1000,
                "too_many_requests": 0,
            },
        },
    )


if __name__ == "__main__":
    main()
