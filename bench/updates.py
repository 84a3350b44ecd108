"""Update throughput: a realistic mix of updates through the real dispatcher, against two peers.

10,000 updates from 500 users (browsing the plan with its buttons, /measure, free-text searches,
the glossary, /subscribe, and members filling in the /activity report dialog) are made by
feeding them one by one through `build_app(...).dispatcher.feed_update` on a real SQLite file
(the Driver presses the buttons the bot answered with), answered by the recording LocalSession
(which refuses invalid HTML as Telegram would). That first pass also counts the trips to the
database's thread per kind of update.

Then, in several rounds, the very same Update objects go to three contestants, each fresh per
round: ours (a new database), the peer (bench/peer.py: a small typical aiogram + aiosqlite bot)
and a bare aiogram echo, the heap frozen after they are built as `cso-bot run` does. They take
turns chunk by chunk, in a rotating order, so load from elsewhere on the machine hits all three
alike; the ratios ours/peer and ours/echo are from the summed busy time of all rounds.

    python -m bench.updates [--updates 10000] [--users 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import CallbackQuery, Chat, Message, MessageEntity, Update, User

from bench.common import PLAN_FILE, TripCounter, emit, peak_rss_mb, percentile
from bench.peer import build_peer
from bot.app import App, build_app
from bot.config import Secret, Settings
from bot.i18n import compile_catalogs
from bot.run import settle_heap
from fakes.session import LocalSession
from formats.telegram_text import html_problem

COORDINATOR = 900_000
FIRST_USER = 10_000
MEMBER_SHARE = 5  # every 5th user belongs to an organisation and reports activities

# A step is ("say", text), ("tap", label fragment) or ("pick", None): a random button.
Step = tuple[str, str | None]

BROWSE: list[Step] = [
    ("say", "/plan"),
    ("pick", None),
    ("pick", None),
    ("pick", None),
    ("say", "/start"),
    ("pick", None),
    ("pick", None),
]
LOOKUP: list[Step] = [
    ("say", "/measure 1.1.1"),
    ("say", "форум"),
    ("say", "/measure 2.4.4"),
    ("say", "молодь"),
    ("say", "/search тренінг"),
    ("say", "/measure 3.1.1"),
    ("say", "<b>&"),
    ("say", "/bodies"),
    ("pick", None),
    ("say", "/subscribe"),
    ("say", "/help"),
]
EVENTS: list[Step] = [("say", "/events"), ("pick", None), ("pick", None), ("pick", None)]
REPORT: list[Step] = [
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
    ("tap", "Надіслати"),
    ("say", "/myreports"),
]
# Steps inside the /activity dialog (between the command that starts it and the submit).
DIALOG_STEPS = frozenset(REPORT[1:11])
SUBMIT = REPORT[11]


class Driver:
    """Builds each user's next Update from the bot's previous answers (to press real buttons)."""

    def __init__(self, session: LocalSession, seed: int = 1) -> None:
        self.session = session
        self.random = random.Random(seed)
        self.ids = itertools.count(1)

    def message(self, user_id: int, text: str) -> Update:
        entities = None
        if text.startswith("/"):
            entities = [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
        message = Message(
            message_id=next(self.ids),
            date=datetime.now(UTC),
            chat=Chat(id=user_id, type="private"),
            from_user=_user(user_id),
            text=text,
            entities=entities,
        )
        return Update(update_id=next(self.ids), message=message)

    def callback(self, user_id: int, label: str | None) -> Update | None:
        """A press on the newest keyboard: the button whose text has label, or a random one."""
        for message_id, stored in sorted(
            self.session.messages.get(user_id, {}).items(), reverse=True
        ):
            rows = stored.get("reply_markup", {}).get("inline_keyboard")
            if not rows:
                continue
            buttons = [b for row in rows for b in row if b.get("callback_data")]
            if label is None:
                chosen = self.random.choice(buttons) if buttons else None
            else:
                chosen = next((b for b in buttons if label in b["text"]), None)
            if chosen is None:
                return None
            query = CallbackQuery(
                id=str(next(self.ids)),
                from_user=_user(user_id),
                chat_instance="bench",
                message=Message.model_validate(stored),
                data=chosen["callback_data"],
            )
            del message_id
            return Update(update_id=next(self.ids), callback_query=query)
        return None


def _user(user_id: int) -> User:
    return User(id=user_id, is_bot=False, first_name="Bench", language_code="uk")


def scripts(users: int) -> dict[int, Iterator[Step]]:
    """Each user's endless round of steps: members report, others browse and look things up."""
    plans: dict[int, Iterator[Step]] = {}
    for n in range(users):
        user = FIRST_USER + n
        if n % MEMBER_SHARE == 0:
            plans[user] = itertools.cycle(REPORT + LOOKUP[:3])
        elif n % 2:
            plans[user] = itertools.cycle(BROWSE + EVENTS + LOOKUP[:4])
        else:
            plans[user] = itertools.cycle(LOOKUP + BROWSE[:4])
    return plans


def settings_for(directory: Path) -> Settings:
    return Settings(
        bot_token=Secret("123456:BENCH-token"),
        database_path=directory / "bench.sqlite3",
        plan_file=PLAN_FILE,
        coordinator_ids=frozenset({COORDINATOR}),
    )


async def add_members(app: App, users: int) -> None:
    async with app.db.transaction() as repo:
        for n in range(0, users, MEMBER_SHARE):
            org = await repo.organisations.create(
                f"ГО Бенчмарк {n}", edrpou=f"{40_000_000 + n}", status="verified"
            )
            await repo.memberships.request(FIRST_USER + n, org.id, approved=True)


async def add_events(app: App, count: int = 30) -> None:
    """Upcoming approved events to browse (the events feature is new: skipped if absent)."""
    try:
        from db.events import NewEvent
    except ImportError:
        return
    now = datetime.now(UTC)
    async with app.db.transaction() as repo:
        for n in range(count):
            starts = now + timedelta(days=1 + n, hours=n % 5)
            await repo.events.create(
                NewEvent(
                    title=f"Відкрита зустріч {n}",
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=2),
                    place="Вінниця, вул. Соборна, 59",
                    organiser="ГО Бенчмарк",
                    organisation_id=None,
                    measures=("2.1.2",),
                    description="Обговорення плану партнерства.",
                    capacity=None if n % 2 else 40,
                    status="approved",
                    proposed_by=None,
                    created_by=COORDINATOR,
                ),
                now,
            )


def new_bot(session: LocalSession) -> Bot:
    return Bot(
        "123456:BENCH-token", session=session, default=DefaultBotProperties(parse_mode="HTML")
    )


def kind_of(step: Step, update: Update) -> str:
    """The kind of update the round trips are reported by."""
    if step in DIALOG_STEPS:
        return "dialog step (/activity)"
    if step == SUBMIT:
        return "dialog submit (/activity)"
    if update.callback_query is not None:
        prefix = (update.callback_query.data or "").split(":")[0]
        return "plan button" if prefix == "p" else f"button {prefix}:"
    text = update.message.text if update.message else ""
    if text and text.startswith("/"):
        return text.split()[0]
    return "search (plain text)"


async def fresh_app(directory: Path, users: int) -> App:
    app = await build_app(settings_for(directory))
    await add_members(app, users)
    await add_events(app)
    return app


async def run_app(directory: Path, total: int, users: int) -> tuple[dict[str, Any], list[Update]]:
    """The first pass: makes the updates (pressing the buttons the bot sent), counts trips."""
    app = await fresh_app(directory, users)
    session = LocalSession(check_html=html_problem)
    bot = new_bot(session)
    driver = Driver(session)
    plans = scripts(users)
    order = list(plans)
    fed: list[Update] = []
    latencies: list[float] = []
    requests: Counter[str] = Counter()
    trips: dict[str, list[int]] = {}
    unhandled = 0
    try:
        started = time.perf_counter()
        busy = 0.0
        with TripCounter() as counter:
            for user in itertools.cycle(order):
                if len(fed) >= total:
                    break
                step = next(plans[user])
                kind, arg = step
                update = driver.message(user, arg or "") if kind == "say" else None
                if update is None:
                    update = driver.callback(user, arg) or driver.message(user, "/start")
                before = counter.trips
                t0 = time.perf_counter()
                result = await app.dispatcher.feed_update(bot, update)
                elapsed = time.perf_counter() - t0
                trips.setdefault(kind_of(step, update), []).append(counter.trips - before)
                busy += elapsed
                latencies.append(elapsed)
                fed.append(update)
                unhandled += result is UNHANDLED
                requests.update(r.__api_method__ for r in session.requests)
                session.requests.clear()
        wall = time.perf_counter() - started
        kinds = Counter(
            "callback"
            if u.callback_query
            else ("command" if (u.message and u.message.entities) else "text")
            for u in fed
        )
        async with app.db.read() as repo:
            submitted = len(await repo.reports.pending(limit=100_000))
    finally:
        await app.close()
    return {
        "updates": len(fed),
        "users": users,
        "wall_s": wall,
        "busy_s": busy,
        "updates_per_s": len(fed) / busy,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000,
        "unhandled": unhandled,
        "mix": dict(kinds),
        "requests": dict(requests),
        "reports_submitted": submitted,
        "db_trips_per_update": {
            kind: {"updates": len(n), "mean": sum(n) / len(n), "max": max(n)}
            for kind, n in sorted(trips.items(), key=lambda item: -len(item[1]))
        },
    }, fed


def bare_echo() -> Dispatcher:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.html_text or "…")

    @dp.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()

    return dp


class Contestant:
    """One dispatcher of a round, with its own session, and the time it spent on updates."""

    def __init__(self, name: str, dp: Dispatcher) -> None:
        self.name = name
        self.dp = dp
        self.session = LocalSession(check_html=html_problem)
        self.bot = new_bot(self.session)
        self.latencies: list[float] = []

    async def feed(self, updates: list[Update]) -> None:
        for update in updates:
            t0 = time.perf_counter()
            await self.dp.feed_update(self.bot, update)
            self.latencies.append(time.perf_counter() - t0)
            self.session.requests.clear()


async def run_rounds(
    directory: Path, updates: list[Update], users: int, rounds: int, chunk: int
) -> dict[str, Any]:
    """Ours, the peer and the bare echo take turns on the same updates, round after round."""
    latencies: dict[str, list[float]] = {"ours": [], "peer": [], "echo": []}
    per_round: list[dict[str, float]] = []
    for n in range(rounds):
        app = await fresh_app(directory / f"ours-{n}", users)
        peer_dp, peer_conn = await build_peer(directory / f"peer-{n}.sqlite3")
        contestants = [
            Contestant("ours", app.dispatcher),
            Contestant("peer", peer_dp),
            Contestant("echo", bare_echo()),
        ]
        settle_heap()  # as `cso-bot run` does once started
        try:
            for i, start in enumerate(range(0, len(updates), chunk)):
                part = updates[start : start + chunk]
                turn = (i + n) % len(contestants)
                for contestant in contestants[turn:] + contestants[:turn]:
                    await contestant.feed(part)
        finally:
            await app.close()
            await peer_conn.close()
        per_round.append({c.name: len(c.latencies) / sum(c.latencies) for c in contestants})
        for c in contestants:
            latencies[c.name] += c.latencies
    rates = {name: len(lat) / sum(lat) for name, lat in latencies.items()}
    return {
        "rounds": rounds,
        "chunk": chunk,
        "updates_per_s": rates,
        "p50_ms": {k: percentile(v, 0.50) * 1000 for k, v in latencies.items()},
        "p99_ms": {k: percentile(v, 0.99) * 1000 for k, v in latencies.items()},
        "per_round_updates_per_s": per_round,
        "ratio_ours_to_peer": rates["ours"] / rates["peer"],
        "ratio_ours_to_echo": rates["ours"] / rates["echo"],
        "ratio_ours_to_peer_per_round": [r["ours"] / r["peer"] for r in per_round],
    }


async def main_async(total: int, users: int, rounds: int, chunk: int) -> dict[str, Any]:
    compile_catalogs()
    with tempfile.TemporaryDirectory(prefix="cso-bench-") as tmp:
        rss_before = peak_rss_mb()
        app_result, fed = await run_app(Path(tmp) / "first", total, users)
        app_result["peak_rss_mb"] = peak_rss_mb()
        app_result["rss_before_mb"] = rss_before
        interleaved = await run_rounds(Path(tmp), fed, users, rounds, chunk)
    return {
        "app": app_result,
        "interleaved": interleaved,
        "ratio_ours_to_peer": interleaved["ratio_ours_to_peer"],
        "ratio_app_to_bare": interleaved["ratio_ours_to_echo"],
        "target_ratio_to_peer": 1.2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=500, help="updates per turn")
    args = parser.parse_args()
    result = asyncio.run(main_async(args.updates, args.users, args.rounds, args.chunk))
    emit("updates", result)
    print(
        f"ours/peer {result['ratio_ours_to_peer']:.3f}  "
        f"ours/echo {result['ratio_app_to_bare']:.3f}"
        f"  updates/s {result['interleaved']['updates_per_s']}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
