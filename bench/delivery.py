"""Newsletter delivery: scheduler/newsletter/delivery.py against FakeBotAPI over loopback HTTP.

The fake server runs in a process of its own (it records every call, so it grows), the engine in
another (so its peak RSS is the engine's alone). Cases:

* ceiling: 10,000 subscribers, sender limit 1,000/s, server without limit: the engine's ceiling;
* memory: the same at 1,000 subscribers, to compare peak memory with 10,000;
* paced: 1,000 subscribers, server limit 30/s, the sender's default options: the achieved rate as a
  share of the server's limit and the number of 429s (10,000 would take ~6 minutes).

    python -m bench.delivery [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import TOKEN, emit

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
        "too_many_requests": summary.too_many_requests + path.stats.flood_waits,
        "retries": summary.retries,
    }


def run_case(subscribers: int, rate: float | None, server_limit: float | None) -> dict[str, Any]:
    here = [sys.executable, "-m", "bench.delivery"]
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [*here, "--serve", str(server_limit or 0)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        child = subprocess.Popen(  # noqa: S603
            [*here, "--engine", url, str(subscribers), str(rate or 0)],
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
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(serve(args.serve or None))
        return
    if args.engine:
        url, subscribers, rate = args.engine
        result = asyncio.run(engine(url, int(subscribers), float(rate) or None))
        print(json.dumps(result))
        return
    big, small = (2_000, 200) if args.quick else (10_000, 1_000)
    ceiling = run_case(big, 1000.0, None)
    memory = run_case(small, 1000.0, None)
    paced = run_case(small, None, 30.0)
    # The default is 28/s; 25/s shows the cost of a wider margin under Telegram's 30/s.
    paced_25 = run_case(small, 25.0, 30.0)
    emit(
        "delivery",
        {
            "ceiling": ceiling,
            "memory_small": memory,
            "paced": paced,
            "paced_at_25": paced_25,
            "peak_rss_growth_small_to_big": ceiling["engine_peak_rss_mb"]
            / memory["engine_peak_rss_mb"],
            "targets": {"share_of_server_limit": 0.9, "too_many_requests": 0},
        },
    )


if __name__ == "__main__":
    main()
