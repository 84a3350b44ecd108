"""Two `cso-bot run` processes on one database file: both answer, nothing is lost or corrupted.

WAL lets several processes share the file (one writer at a time, busy_timeout for the rest), so
running two by mistake must not corrupt anything. Each process polls its own fake Bot API server.

Each child writes its log to a file (a pipe nobody reads while it runs could fill and stall it),
and every failure shows both logs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fakes.bot_api import FakeBotAPI

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:TWO-processes-token"


class Bot:
    """A running `cso-bot run` child and the file its output goes to."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


async def spawn_run(
    api: FakeBotAPI,
    database: Path | str,
    name: str,
    *args: str,
    folder: Path | None = None,
    **extra_env: str,
) -> tuple[asyncio.subprocess.Process, Path]:
    """`cso-bot run *args` on api and the database given: an SQLite file, or a PostgreSQL URL
    (webhook mode and Redis only if extra_env says so); its log goes to <name>.log in `folder`
    (by default beside the database file)."""
    env = {
        **os.environ,
        "BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": api.url,
        "PLAN_FILE": str(ROOT / "data" / "annex4.yaml"),
        "COORDINATOR_IDS": "1",
        "LOG_LEVEL": "INFO",
    }
    for setting in ("WEBHOOK_URL", "WEBHOOK_SECRET", "REDIS_URL", "DATABASE_URL"):
        env.pop(setting, None)
    if isinstance(database, Path):
        env["DATABASE_PATH"] = str(database)
        folder = folder or database.parent
    else:
        env["DATABASE_URL"] = database
    assert folder is not None, "a PostgreSQL database needs a folder for the log"
    env.update(extra_env)
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", *args,
            cwd=str(folder), env=env, stdout=out, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    return process, log


async def start_bot(api: FakeBotAPI, database: Path, name: str = "bot", **extra_env: str) -> Bot:
    """`cso-bot run` polling api, on the database file given; its log goes to <name>.log."""
    process, log = await spawn_run(api, database, name, **extra_env)
    bot = Bot(process, log)
    try:
        # Two cold starts at once on a busy machine can take a while: 60 s before giving up.
        await api.wait_polling(timeout=60)
    except TimeoutError:
        if process.returncode is None:
            process.kill()
        await process.wait()
        pytest.fail(f"{name} never polled (exit {process.returncode}); its log:\n{bot.output()}")
    return bot


async def stop_bot(bot: Bot) -> str:
    """SIGTERM, then its whole log; fails the test on a non-zero exit or a traceback."""
    process = bot.process
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.wait(), timeout=30)
    log = bot.output()
    assert process.returncode == 0, log
    assert "Traceback" not in log, log
    assert " ERROR " not in log and "CRITICAL" not in log, log
    return log


async def converse(api: FakeBotAPI, users: range, texts: list[str]) -> None:
    """Every user says every text in turn (users at once); each message must get its answer."""

    async def one(user: int) -> None:
        for text in texts:
            after = len(api.calls)
            api.push_message(user, text)
            await api.wait_for_reply(user, after=after, timeout=30)

    await asyncio.gather(*(one(user) for user in users))


def rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(database)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture
async def apis() -> AsyncIterator[tuple[FakeBotAPI, FakeBotAPI]]:
    # One bot's updates are numbered in one sequence, whichever process receives them: the two
    # servers share it (disjoint ranges), so each process's journal sees ids Telegram would send.
    async with (
        FakeBotAPI(TOKEN) as first,
        FakeBotAPI(TOKEN, first_update_id=1_000_001) as second,
    ):
        yield first, second


async def test_two_processes_share_one_database(
    apis: tuple[FakeBotAPI, FakeBotAPI], tmp_path: Path
) -> None:
    database = tmp_path / "shared.sqlite3"
    first_api, second_api = apis
    # Started at once: start-up is mostly importing aiogram, and both may migrate the new file.
    first, second = await asyncio.gather(
        start_bot(first_api, database, "first"), start_bot(second_api, database, "second")
    )
    try:
        # Both write at once: users, subscriptions and dialog state, interleaved.
        await asyncio.gather(
            converse(first_api, range(1001, 1021), ["/start", "/subscribe", "/activity"]),
            converse(second_api, range(2001, 2021), ["/start", "/subscribe", "/activity"]),
        )
    except BaseException:
        print(f"--- first process ---\n{first.output()}\n--- second ---\n{second.output()}")
        raise
    finally:
        first_log, second_log = await asyncio.gather(stop_bot(first), stop_bot(second))
    assert "database is locked" not in first_log + second_log

    assert rows(database, "PRAGMA integrity_check") == [("ok",)]
    users = {r[0] for r in rows(database, "SELECT id FROM users")}
    assert set(range(1001, 1021)) | set(range(2001, 2021)) <= users
    subscribed = {r[0] for r in rows(database, "SELECT user_id FROM subscribers WHERE active")}
    assert set(range(1001, 1021)) | set(range(2001, 2021)) <= subscribed
    for api in apis:
        refused = [c for c in api.calls if c.method in ("sendMessage", "editMessageText")]
        assert refused and all(c.ok for c in refused), [c.description for c in refused if not c.ok]


async def test_two_openings_of_a_new_file_at_once_both_migrate_it(tmp_path: Path) -> None:
    """The cause of the flaky start: both read version 0 and the second failed on
    "table users already exists"; the migration lock makes the second wait and skip."""
    from db import Database

    for attempt in range(5):
        path = tmp_path / f"new{attempt}.sqlite3"
        opened = await asyncio.gather(Database.open(path), Database.open(path))
        try:
            assert {db.schema_version for db in opened} == {opened[0].schema_version}
        finally:
            for db in opened:
                await db.close()
    assert rows(path, "PRAGMA integrity_check") == [("ok",)]
