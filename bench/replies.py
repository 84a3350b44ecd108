"""Reply latency in a burst: N people send /start at once to the real `cso-bot run`, against the
fake Bot API enforcing Telegram's limits (30/s for the bot, one chat's burst, 429 + retry_after).

`.venv/bin/python -m bench.replies [--people 200] [--send-rate 25]` prints p50/p99/max seconds
from each /start being queued to its answer being accepted, the 429s met and the bot's rate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fakes.bot_api import FakeBotAPI

TOKEN = "123456:BENCH-replies"  # noqa: S105 - the fake server's, not a secret


async def burst(people: int, send_rate: float) -> dict[str, float]:
    async with FakeBotAPI(TOKEN, rate_limit=30, chat_burst=3) as api:
        with tempfile.TemporaryDirectory() as folder:
            env = {
                **os.environ,
                "BOT_TOKEN": TOKEN,
                "TELEGRAM_API_URL": api.url,
                "DATABASE_PATH": str(Path(folder) / "bench.sqlite3"),
                "LOG_LEVEL": "WARNING",
                "SEND_RATE": str(send_rate),
            }
            env.pop("WEBHOOK_URL", None)
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", cwd=folder, env=env,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            try:
                await api.wait_polling(timeout=120)
                await asyncio.sleep(1.0)  # start-up's own messages out of the way
                queued = {}
                for person in range(1, people + 1):
                    queued[person] = time.monotonic()
                    api.push_message(100_000 + person, "/start")
                replies = {}
                for person in range(1, people + 1):
                    call = await api.wait_for_reply(100_000 + person, timeout=120)
                    replies[person] = call.at - queued[person]
            finally:
                process.send_signal(signal.SIGTERM)
                await process.wait()
    latencies = sorted(replies.values())
    return {
        "people": people,
        "p50_s": statistics.median(latencies),
        "p99_s": latencies[max(0, round(0.99 * len(latencies)) - 1)],
        "max_s": latencies[-1],
        "too_many_requests": api.too_many_requests,
        "replies_per_s": people / latencies[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--send-rate", type=float, default=25.0)
    args = parser.parse_args()
    result = asyncio.run(burst(args.people, args.send_rate))
    print(
        f"{result['people']} × /start at once, SEND_RATE {args.send_rate:g}: "
        f"p50 {result['p50_s']:.2f} s, p99 {result['p99_s']:.2f} s, max {result['max_s']:.2f} s; "
        f"{result['replies_per_s']:.1f} replies/s; {result['too_many_requests']} × 429; "
        f"load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
