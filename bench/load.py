"""Load test: many users at once over HTTP against the real `cso-bot run` and FakeBotAPI.

Each simulated user loops through dialogs (browsing the plan with its buttons, searches and
/measure, the /activity report dialog as a member, /subscribe), waiting for each answer and a
short think time before the next step. At the end: every update confirmed (none lost), every step
answered, no Traceback/ERROR in the bot's log, and p50/p99 reply latency. Not part of `make test`.

The bot's send pace (SEND_RATE, bot/outgoing.py) is lifted to 1,000/s here by default: 1,000
users thinking 2-8 s ask ~170 replies a second, and at the real pace of 25/s (Telegram allows
~30) the latency measured would be the queue for send slots, not the bot. `--send-rate 25`
shows that queue.

    python -m bench.load [--users 1000] [--seconds 60] [--send-rate 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import TOKEN, bench_env, emit, percentile
from fakes.bot_api import Call, FakeBotAPI

FIRST_USER = 100_000
MEMBER_SHARE = 5
ANSWER_TIMEOUT = 60.0

Step = tuple[str, str | None]  # ("say", text) | ("tap", label fragment) | ("pick", None)
BROWSE: list[Step] = [("say", "/plan"), ("pick", None), ("pick", None), ("pick", None)]
SEARCH: list[Step] = [("say", "форум"), ("say", "/measure 1.1.1"), ("say", "/search молодь")]
SUBSCRIBE: list[Step] = [("say", "/subscribe"), ("say", "/start"), ("pick", None)]
ACTIVITY: list[Step] = [
    ("say", "/activity"),
    ("say", "2.1.2"),
    ("tap", "Діалогові зустрічі"),
    ("say", "14.03.2024"),
    ("say", "Зустріч з департаментом освіти"),
    ("tap", "Пропустити"),
    ("tap", "1"),
    ("say", "7"),
    ("say", "2"),
    ("tap", "Пропустити"),
    ("say", "https://example.org/post/1"),
    ("tap", "Скасувати"),
]


class Replies:
    """Hands each chat the bot's calls to it, in one pass over the server's call log."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api
        self.queues: dict[int, asyncio.Queue[Call]] = {}
        self.refused: list[Call] = []
        self.not_modified = 0

    def queue(self, chat: int) -> asyncio.Queue[Call]:
        return self.queues.setdefault(chat, asyncio.Queue())

    async def pump(self) -> None:
        index = 0
        while True:
            while index < len(self.api.calls):
                call = self.api.calls[index]
                index += 1
                chat = call.params.get("chat_id")
                query = str(call.params.get("callback_query_id", ""))
                if query.startswith("cbq"):
                    chat = int(query.rsplit("x", 1)[1])
                if not isinstance(chat, int):
                    continue
                if call.description and "message is not modified" in call.description:
                    # A repeated tap asks for the same view: the bot ignores this 400 by design
                    # (handlers/reply.py), as Telegram changes nothing.
                    self.not_modified += 1
                elif not call.ok and call.status != 429:
                    self.refused.append(call)
                self.queue(chat).put_nowait(call)
            await self.api._calls_changed.wait(1.0)


class User:
    def __init__(self, user_id: int, api: FakeBotAPI, replies: Replies, rng: random.Random):
        self.id = user_id
        self.api = api
        self.inbox = replies.queue(user_id)
        self.rng = rng
        self.latencies: list[float] = []
        self.unanswered = 0
        self.steps = 0
        self.keyboard_message: dict[str, Any] | None = None

    def _press(self, label: str | None) -> bool:
        message = self.keyboard_message
        if message is None:
            return False
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        buttons = [b for row in rows for b in row if b.get("callback_data")]
        if label is not None:
            buttons = [b for b in buttons if label in b["text"]]
        if not buttons:
            return False
        button = self.rng.choice(buttons) if label is None else buttons[0]
        self.api.push_callback(self.id, button["callback_data"], message_id=message["message_id"])
        return True

    async def step(self, kind: str, value: str | None) -> None:
        while not self.inbox.empty():  # late extras of the previous step
            self._remember(self.inbox.get_nowait())
        sent = time.monotonic()
        if kind == "say" or not self._press(value):
            self.api.push_message(self.id, value if kind == "say" and value else "/start")
        self.steps += 1
        try:
            while True:
                call = await asyncio.wait_for(self.inbox.get(), ANSWER_TIMEOUT)
                self._remember(call)
                if call.ok and call.method in (
                    "sendMessage",
                    "editMessageText",
                    "answerCallbackQuery",
                ):
                    self.latencies.append(call.at - sent)
                    break
        except TimeoutError:
            self.unanswered += 1
            return
        await asyncio.sleep(0.05)  # let an edit follow its answerCallbackQuery
        while not self.inbox.empty():
            self._remember(self.inbox.get_nowait())

    def _remember(self, call: Call) -> None:
        if call.ok and call.method in ("sendMessage", "editMessageText"):
            result = call.result
            if isinstance(result, dict) and result.get("reply_markup"):
                self.keyboard_message = self.api.find_message(self.id, result["message_id"])

    async def run(self, until: float, dialogs: list[list[Step]], think: tuple[float, float]):
        await asyncio.sleep(self.rng.uniform(0, think[1]))  # users do not all arrive at once
        while time.monotonic() < until:
            for kind, value in self.rng.choice(dialogs):
                if time.monotonic() >= until:
                    return
                await self.step(kind, value)
                await asyncio.sleep(self.rng.uniform(*think))


async def prepare(database: Path, users: int) -> None:
    from db import Database

    db = await Database.open(database)
    try:
        async with db.transaction() as repo:
            for n in range(0, users, MEMBER_SHARE):
                org = await repo.organisations.create(f"ГО Навантаження {n}", status="verified")
                await repo.memberships.request(FIRST_USER + n, org.id, approved=True)
    finally:
        await db.close()


async def main_async(
    users: int, seconds: float, think: tuple[float, float], send_rate: float = 1000.0
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cso-load-") as tmp:
        database = Path(tmp) / "load.sqlite3"
        await prepare(database, users)
        log_path = Path(tmp) / "bot.log"
        async with FakeBotAPI(TOKEN) as api:
            env = bench_env(
                BOT_TOKEN=TOKEN,
                TELEGRAM_API_URL=api.url,
                DATABASE_PATH=str(database),
                COORDINATOR_IDS="1",
                LOG_LEVEL="WARNING",
                SEND_RATE=f"{send_rate:g}",
            )
            with log_path.open("wb") as log:
                bot = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot.cli", "run",
                    env=env, stdout=log, stderr=asyncio.subprocess.STDOUT,
                )  # fmt: skip
            replies = Replies(api)
            pump = asyncio.create_task(replies.pump())
            try:
                await api.wait_polling(timeout=120)
                rng = random.Random(3)
                crowd = [
                    User(FIRST_USER + n, api, replies, random.Random(n)) for n in range(users)
                ]
                until = time.monotonic() + seconds
                started = time.monotonic()
                await asyncio.gather(
                    *(
                        u.run(
                            until,
                            [ACTIVITY] if (u.id - FIRST_USER) % MEMBER_SHARE == 0 and
                            rng.random() < 0.7 else [BROWSE, SEARCH, SUBSCRIBE, ACTIVITY],
                            think,
                        )
                        for u in crowd
                    )
                )  # fmt: skip
                elapsed = time.monotonic() - started
                last = api.pushed[-1]["update_id"] if api.pushed else 0
                # One more update: it is confirmed only by the poll after the last one's.
                api.push_message(FIRST_USER, "/help")
                await api.wait_confirmed(last, timeout=60)
            finally:
                pump.cancel()
                if bot.returncode is None:
                    bot.send_signal(signal.SIGTERM)
                await asyncio.wait_for(bot.wait(), timeout=60)
        log_text = log_path.read_text(errors="replace")
    latencies = [x for u in crowd for x in u.latencies]
    # Who used the 2 cores: the bot (the only child) or this driver with the fake server.
    bot_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    own_usage = resource.getrusage(resource.RUSAGE_SELF)
    problems = [line for line in log_text.splitlines() if "Traceback" in line or "ERROR" in line]
    return {
        "users": users,
        "seconds": seconds,
        "think_s": list(think),
        "send_rate": send_rate,
        "updates": len(api.pushed) - 1,
        "updates_per_s": (len(api.pushed) - 1) / elapsed,
        "steps": sum(u.steps for u in crowd),
        "answered": len(latencies),
        "unanswered": sum(u.unanswered for u in crowd),
        "users_answered": sum(1 for u in crowd if u.latencies),
        "lost_updates": max(0, last - api.confirmed_update_id),
        "refused_by_telegram": [f"{c.method}: {c.description}" for c in replies.refused][:10],
        "not_modified_edits": replies.not_modified,
        "log_problems": problems[:20],
        "exit_code": bot.returncode,
        "bot_cpu_s": bot_usage.ru_utime + bot_usage.ru_stime,
        "driver_and_fake_api_cpu_s": own_usage.ru_utime + own_usage.ru_stime,
        "wall_s": elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies, default=0) * 1000,
        "methods": dict(Counter(c.method for c in api.calls)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, nargs=2, default=(2.0, 8.0), metavar=("MIN", "MAX"))
    parser.add_argument("--send-rate", type=float, default=1000.0, help="the bot's SEND_RATE")
    args = parser.parse_args()
    result = asyncio.run(main_async(args.users, args.seconds, tuple(args.think), args.send_rate))
    emit("load", result)
    ok = (
        result["unanswered"] == 0
        and result["lost_updates"] == 0
        and not result["log_problems"]
        and not result["refused_by_telegram"]
        and result["users_answered"] == result["users"]
        and result["exit_code"] == 0
    )
    print(
        f"load: {result['users']} users, SEND_RATE {args.send_rate:g}, "
        f"{result['updates']} updates in {args.seconds:.0f} s "
        f"({result['updates_per_s']:.0f}/s); answered {result['answered']}/{result['steps']}; "
        f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms; lost "
        f"{result['lost_updates']}; log problems {len(result['log_problems'])} — "
        + ("PASS" if ok else "FAIL")
    )
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
