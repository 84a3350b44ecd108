"""Update throughput: a realistic mix of updates through the real dispatcher, and a bare peer.

10,000 updates from 500 users (browsing the plan with its buttons, /measure, free-text searches,
the glossary, /subscribe, and members filling in the /activity report dialog) are fed one by one
through `build_app(...).dispatcher.feed_update` on a real SQLite file, answered by the recording
LocalSession (which refuses invalid HTML as Telegram would). The very same Update objects are then
fed to a bare aiogram Dispatcher with one echo handler per event type on the same kind of session,
so the ratio says what the bot's own work costs on top of aiogram's.

    python -m bench.updates [--updates 10000] [--users 500]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
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

from bench.common import PLAN_FILE, emit, peak_rss_mb, percentile
from bot.app import App, build_app
from bot.config import Secret, Settings
from bot.i18n import compile_catalogs
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


async def run_app(directory: Path, total: int, users: int) -> tuple[dict[str, Any], list[Update]]:
    app = await build_app(settings_for(directory))
    await add_members(app, users)
    await add_events(app)
    session = LocalSession(check_html=html_problem)
    bot = new_bot(session)
    driver = Driver(session)
    plans = scripts(users)
    order = list(plans)
    fed: list[Update] = []
    latencies: list[float] = []
    requests: Counter[str] = Counter()
    unhandled = 0
    try:
        started = time.perf_counter()
        busy = 0.0
        for user in itertools.cycle(order):
            if len(fed) >= total:
                break
            kind, arg = next(plans[user])
            update = driver.message(user, arg or "") if kind == "say" else None
            if update is None:
                update = driver.callback(user, arg) or driver.message(user, "/start")
            t0 = time.perf_counter()
            result = await app.dispatcher.feed_update(bot, update)
            elapsed = time.perf_counter() - t0
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
    }, fed


async def run_bare(updates: list[Update]) -> dict[str, Any]:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.html_text or "…")

    @dp.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()

    session = LocalSession(check_html=html_problem)
    bot = new_bot(session)
    latencies: list[float] = []
    for update in updates:
        t0 = time.perf_counter()
        await dp.feed_update(bot, update)
        latencies.append(time.perf_counter() - t0)
        session.requests.clear()
    busy = sum(latencies)
    return {
        "updates": len(updates),
        "updates_per_s": len(updates) / busy,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


async def main_async(total: int, users: int) -> dict[str, Any]:
    compile_catalogs()
    with tempfile.TemporaryDirectory(prefix="cso-bench-") as tmp:
        rss_before = peak_rss_mb()
        app_result, fed = await run_app(Path(tmp), total, users)
        app_result["peak_rss_mb"] = peak_rss_mb()
        app_result["rss_before_mb"] = rss_before
        bare = await run_bare(fed)
    return {
        "app": app_result,
        "bare_aiogram": bare,
        "ratio_app_to_bare": app_result["updates_per_s"] / bare["updates_per_s"],
        "target_updates_per_s": 2000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=500)
    args = parser.parse_args()
    emit("updates", asyncio.run(main_async(args.updates, args.users)))


if __name__ == "__main__":
    main()
