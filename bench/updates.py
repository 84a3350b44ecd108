"""Update throughput: a realistic mix of updates through the real dispatcher, against two peers.

10,000 updates from 500 users (browsing the plan with its buttons, /measure, free-text searches,
the glossary, /subscribe, and members filling in the /activity report dialog) are made by
feeding them one by one through `build_app(...).dispatcher.feed_update` on a real SQLite file
(the Driver presses the buttons the bot answered with), answered by the recording LocalSession
(which refuses invalid HTML as Telegram would). That first pass also counts the trips to the
database's thread per kind of update.

Then, in several rounds, the very same Update objects go to the contestants, each fresh per
round: ours (a new database), the peer (bench/peer.py: a small typical aiogram + aiosqlite bot)
and a bare aiogram echo, the heap frozen after they are built as `cso-bot run` does. They take
turns chunk by chunk, in a rotating order, so load from elsewhere on the machine hits all
alike; the ratios ours/peer and ours/echo are from the summed busy time of all rounds. Beside
them, the ratio in CPU time (the process's, so the aiosqlite threads count): waiting for a core
or for a thread's hand-off swings the wall-time rates when others share the machine.

`--database postgresql` (or `both`) also runs ours on PostgreSQL (DATABASE_URL; a throwaway
server from Debian's binaries, fakes/servers.py, with synchronous_commit=off as SQLite's
synchronous=NORMAL in WAL mode; TEST_DATABASE_URL names one to use instead): a first pass of
its own counts its round trips per kind of update (the Driver makes the same updates), and in
the rounds ours on PostgreSQL is one more contestant (a new database each round). The peer
stays on aiosqlite, as a typical small bot is; `both` puts ours on SQLite and on PostgreSQL in
the same rounds.

    python -m bench.updates [--updates 10000] [--users 500] [--rounds 3] [--database both]
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
from bot.heap import settle_heap
from bot.i18n import compile_catalogs
from fakes.servers import POSTGRES_LIKE_SQLITE, PostgresServer, start_postgres
from fakes.session import LocalSession

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


def settings_for(directory: Path, server: PostgresServer | None = None) -> Settings:
    """A new SQLite file in directory, or a new database named after it on the server."""
    url = None
    if server is not None:
        name = "bench_" + "".join(c if c.isalnum() else "_" for c in directory.name)
        url = Secret(server.create_database(name))
    return Settings(
        bot_token=Secret("123456:BENCH-token"),
        database_path=directory / "bench.sqlite3",
        database_url=url,
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


async def fresh_app(directory: Path, users: int, server: PostgresServer | None = None) -> App:
    app = await build_app(settings_for(directory, server))
    await add_members(app, users)
    await add_events(app)
    return app


async def run_app(
    directory: Path, total: int, users: int, server: PostgresServer | None = None
) -> tuple[dict[str, Any], list[Update]]:
    """The first pass: makes the updates (pressing the buttons the bot sent), counts trips."""
    app = await fresh_app(directory, users, server)
    session = LocalSession(check_html=True)
    bot = new_bot(session)
    driver = Driver(session)
    plans = scripts(users)
    order = list(plans)
    fed: list[Update] = []
    latencies: list[float] = []
    requests: Counter[str] = Counter()
    trips: dict[str, list[int]] = {}
    trip_kinds: dict[str, Counter[str]] = {}
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
                before, kinds_before = counter.trips, counter.kinds.copy()
                t0 = time.perf_counter()
                result = await app.dispatcher.feed_update(bot, update)
                elapsed = time.perf_counter() - t0
                trips.setdefault(kind_of(step, update), []).append(counter.trips - before)
                trip_kinds.setdefault(kind_of(step, update), Counter()).update(
                    counter.kinds - kinds_before
                )
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
        "database": app.db.dialect,
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
            kind: {
                "updates": len(n),
                "mean": sum(n) / len(n),
                "max": max(n),
                # what the trips were for (bench.common.TripCounter), per update
                "mean_by_purpose": {k: c / len(n) for k, c in sorted(trip_kinds[kind].items())},
            }
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
        self.session = LocalSession(check_html=True)
        self.bot = new_bot(self.session)
        self.latencies: list[float] = []
        self.cpu_s = 0.0  # the process's CPU time (all threads: aiosqlite's too) in its turns
        self.unhandled = 0

    async def feed(self, updates: list[Update]) -> None:
        cpu = time.process_time()
        for update in updates:
            t0 = time.perf_counter()
            result = await self.dp.feed_update(self.bot, update)
            self.latencies.append(time.perf_counter() - t0)
            self.unhandled += result is UNHANDLED
            self.session.requests.clear()
        self.cpu_s += time.process_time() - cpu


async def run_rounds(
    directory: Path,
    updates: list[Update],
    users: int,
    rounds: int,
    chunk: int,
    ours: dict[str, PostgresServer | None],
) -> dict[str, Any]:
    """Ours (on each database asked for), the peer and the bare echo take turns on the same
    updates, round after round."""
    names = [*ours, "peer", "echo"]
    latencies: dict[str, list[float]] = {name: [] for name in names}
    cpu_s: Counter[str] = Counter()
    unhandled: Counter[str] = Counter()
    per_round: list[dict[str, float]] = []
    for n in range(rounds):
        apps = {name: await fresh_app(directory / f"{name}-{n}", users, server)
                for name, server in ours.items()}  # fmt: skip
        peer_dp, peer_conn = await build_peer(directory / f"peer-{n}.sqlite3")
        contestants = [
            *(Contestant(name, app.dispatcher) for name, app in apps.items()),
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
            for app in apps.values():
                await app.close()
            await peer_conn.close()
        per_round.append({c.name: len(c.latencies) / sum(c.latencies) for c in contestants})
        for c in contestants:
            latencies[c.name] += c.latencies
            cpu_s[c.name] += c.cpu_s
            unhandled[c.name] += c.unhandled
    rates = {name: len(lat) / sum(lat) for name, lat in latencies.items()}
    # Updates per CPU second: blind to waiting for a core or for a thread's hand-off, which
    # swing the wall-time rates on a machine others share (the peer's query per update most).
    cpu_rates = {name: len(lat) / cpu_s[name] for name, lat in latencies.items()}
    return {
        "rounds": rounds,
        "chunk": chunk,
        "updates_per_s": rates,
        "updates_per_cpu_s": cpu_rates,
        "p50_ms": {k: percentile(v, 0.50) * 1000 for k, v in latencies.items()},
        "p99_ms": {k: percentile(v, 0.99) * 1000 for k, v in latencies.items()},
        "unhandled": dict(unhandled),
        "per_round_updates_per_s": per_round,
        **{
            key: value
            for name in ours
            for key, value in {
                f"ratio_{name}_to_peer": rates[name] / rates["peer"],
                f"ratio_{name}_to_echo": rates[name] / rates["echo"],
                f"ratio_{name}_to_peer_per_round": [r[name] / r["peer"] for r in per_round],
                f"ratio_{name}_to_peer_cpu": cpu_rates[name] / cpu_rates["peer"],
            }.items()
        },
    }


# The contestant's name for ours on each database (SQLite keeps the name of earlier runs).
OURS = {"sqlite": "ours", "postgresql": "ours_postgresql"}


async def main_async(
    total: int, users: int, rounds: int, chunk: int, databases: list[str]
) -> dict[str, Any]:
    compile_catalogs()
    server, skipped = None, None
    if "postgresql" in databases:
        try:
            server = start_postgres(POSTGRES_LIKE_SQLITE)
        except RuntimeError as e:
            if databases == ["postgresql"]:
                raise
            # `both` where there is no server to start: SQLite's figures, and why not the other.
            print(f"PostgreSQL left out: {e}", file=sys.stderr)
            databases, skipped = ["sqlite"], str(e)
    try:
        with tempfile.TemporaryDirectory(prefix="cso-bench-") as tmp:
            first: dict[str, dict[str, Any]] = {}
            fed: list[Update] = []
            for database in databases:
                rss_before = peak_rss_mb()
                on = server if database == "postgresql" else None
                app_result, made = await run_app(Path(tmp) / f"first-{database}", total, users, on)
                app_result["peak_rss_mb"] = peak_rss_mb()
                app_result["rss_before_mb"] = rss_before
                first[database] = app_result
                fed = fed or made  # the rounds feed the first pass's updates to every one
            ours = {OURS[d]: (server if d == "postgresql" else None) for d in databases}
            interleaved = await run_rounds(Path(tmp), fed, users, rounds, chunk, ours)
    finally:
        if server is not None:
            server.stop()
    result: dict[str, Any] = {"databases": databases, "interleaved": interleaved}
    if skipped:
        result["postgresql_left_out"] = skipped
    for database in databases:
        name = OURS[database]
        figures = {
            "app": first[database],
            "ratio_ours_to_peer": interleaved[f"ratio_{name}_to_peer"],
            "ratio_app_to_bare": interleaved[f"ratio_{name}_to_echo"],
            "ratio_ours_to_peer_cpu": interleaved[f"ratio_{name}_to_peer_cpu"],
            "target_ratio_to_peer": 1.2,
        }
        # SQLite's figures at the top, where earlier runs had them; PostgreSQL's beside them.
        if database == "sqlite":
            result.update(figures)
        else:
            result[database] = figures
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=100, help="updates per turn")
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgresql", "both"],
        default="sqlite",
        help="where ours keeps its data (the peer stays on aiosqlite)",
    )
    args = parser.parse_args()
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    result = asyncio.run(main_async(args.updates, args.users, args.rounds, args.chunk, databases))
    emit("updates", result)
    rates = result["interleaved"]["updates_per_s"]
    for database in databases:
        figures = result if database == "sqlite" else result[database]
        print(
            f"{database}: ours/peer {figures['ratio_ours_to_peer']:.3f} "
            f"(CPU time {figures['ratio_ours_to_peer_cpu']:.3f})  "
            f"ours/echo {figures['ratio_app_to_bare']:.3f}",
            file=sys.stderr,
        )
    print(f"updates/s {rates}", file=sys.stderr)


if __name__ == "__main__":
    main()
