"""db/: migrations, pragmas, units of work, the write lock, repositories and backups."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import db.migrate
from db import Database, DatabaseError
from db.migrate import Migration, available_migrations

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "db" / "migrations"
MIGRATION_FILES = sorted(
    p for p in MIGRATIONS_DIR.iterdir() if re.match(r"^\d{4}_[a-z0-9_]+\.sql$", p.name)
)
T0 = datetime(2024, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    opened = await Database.open(tmp_path / "bot.sqlite3")
    yield opened
    await opened.close()


async def _pragma(conn, name: str):
    async with conn.execute(f"PRAGMA {name}") as cur:
        row = await cur.fetchone()
    return row[0]


def _user_ids(path: Path) -> set[int]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM users")}


# --- opening and migrating ------------------------------------------------------------------


async def test_fresh_database_is_migrated(tmp_path: Path) -> None:
    assert MIGRATION_FILES, "no migration files found"
    path = tmp_path / "nested" / "dir" / "bot.sqlite3"
    database = await Database.open(path)
    try:
        assert path.is_file()
        assert database.schema_version == len(MIGRATION_FILES)
        assert [m.name for m in available_migrations()] == [p.name for p in MIGRATION_FILES]
        async with database.read() as repos:
            assert await _pragma(repos.conn, "user_version") == len(MIGRATION_FILES)
            assert await _pragma(repos.conn, "journal_mode") == "wal"
            assert await _pragma(repos.conn, "foreign_keys") == 1
            assert await repos.users.count() == 0
        async with database.transaction() as repos:
            assert await _pragma(repos.conn, "foreign_keys") == 1
        assert await database.integrity_check() == "ok"
    finally:
        await database.close()
    # What another process sees in the file itself.
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATION_FILES)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"users", "dialog_states"} <= tables


async def test_reopening_applies_nothing_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "bot.sqlite3"
    caplog.set_level(logging.INFO, logger="db.migrate")
    first = await Database.open(path)
    async with first.transaction() as repos:
        await repos.users.ensure(7, T0)
    await first.close()
    applied = [r.getMessage() for r in caplog.records if "applied migration" in r.getMessage()]
    assert len(applied) == len(MIGRATION_FILES)

    caplog.clear()
    again = await Database.open(path)
    try:
        assert again.schema_version == len(MIGRATION_FILES)
        assert not [r for r in caplog.records if "applied migration" in r.getMessage()]
        async with again.read() as repos:
            assert (await repos.users.get(7)) is not None
    finally:
        await again.close()


async def test_newer_schema_refuses_to_open(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    first = await Database.open(path)
    await first.close()
    newer = len(MIGRATION_FILES) + 5
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {newer}")
    with pytest.raises(RuntimeError) as info:
        await Database.open(path)
    message = str(info.value)
    assert f"schema version {newer}" in message
    assert "newer than this bot" in message
    assert f"({len(MIGRATION_FILES)})" in message
    # Nothing was changed in the file.
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == newer


async def test_a_failing_migration_leaves_the_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bot.sqlite3"
    await (await Database.open(path)).close()
    shipped = available_migrations()
    broken = Migration(
        len(shipped) + 1,
        f"{len(shipped) + 1:04d}_broken.sql",
        "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);",
    )
    monkeypatch.setattr(db.migrate, "available_migrations", lambda: [*shipped, broken])
    with pytest.raises(DatabaseError, match="no_such_table"):
        await Database.open(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(shipped)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half_done" not in tables
    # The shipped migrations alone still open it.
    monkeypatch.undo()
    reopened = await Database.open(path)
    assert reopened.schema_version == len(shipped)
    await reopened.close()


# --- users ----------------------------------------------------------------------------------


async def test_users_ensure_creates_once(database: Database) -> None:
    async with database.transaction() as repos:
        user = await repos.users.ensure(42, T0)
    assert user.id == 42
    assert user.language is None
    assert user.role == "guest"
    assert user.first_seen == "2024-03-01T09:30:15+00:00"

    async with database.transaction() as repos:
        again = await repos.users.ensure(42, T0 + timedelta(days=30))
        assert await repos.users.count() == 1
    assert again == user  # first_seen kept

    async with database.read() as repos:
        assert await repos.users.get(42) == user
        assert await repos.users.get(43) is None


async def test_set_language(database: Database) -> None:
    async with database.transaction() as repos:
        await repos.users.ensure(5, T0)
        await repos.users.set_language(5, "en")
    async with database.read() as repos:
        user = await repos.users.get(5)
    assert user is not None and user.language == "en"

    async with database.transaction() as repos:
        await repos.users.set_language(5, "uk")
        # Setting the language of someone never seen changes nothing.
        await repos.users.set_language(6, "uk")
    async with database.read() as repos:
        user = await repos.users.get(5)
        assert user is not None and user.language == "uk"
        assert await repos.users.get(6) is None


async def test_unsupported_language_is_refused_and_rolled_back(database: Database) -> None:
    async with database.transaction() as repos:
        await repos.users.ensure(5, T0)
    with pytest.raises(sqlite3.IntegrityError):
        async with database.transaction() as repos:
            await repos.users.ensure(6, T0)
            await repos.users.set_language(5, "de")
    async with database.read() as repos:
        assert (await repos.users.get(5)).language is None
        assert await repos.users.get(6) is None


# --- units of work --------------------------------------------------------------------------


async def test_transaction_that_raises_rolls_back(database: Database) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with database.transaction() as repos:
            await repos.users.ensure(1, T0)
            await repos.dialogs.set_state("k", "S:one")
            assert await repos.users.count() == 1  # visible inside
            raise RuntimeError("boom")
    async with database.read() as repos:
        assert await repos.users.count() == 0
        assert await repos.dialogs.get("k") == (None, {})
    # The lock was released and the connection is usable.
    async with database.transaction() as repos:
        await repos.users.ensure(2, T0)
    async with database.read() as repos:
        assert await repos.users.count() == 1


async def test_cancelled_transaction_rolls_back(database: Database) -> None:
    started = asyncio.Event()

    async def slow() -> None:
        async with database.transaction() as repos:
            await repos.users.ensure(1, T0)
            started.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(slow())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with database.transaction() as repos:
        assert await repos.users.get(1) is None
        await repos.users.ensure(2, T0)
    async with database.read() as repos:
        assert await repos.users.count() == 1


async def test_readers_see_only_committed_data(database: Database) -> None:
    async with database.transaction() as repos:
        await repos.users.ensure(1, T0)
        async with database.read() as reader:
            assert await reader.users.get(1) is None
    async with database.read() as reader:
        assert await reader.users.get(1) is not None


async def test_concurrent_transactions_do_not_interleave(database: Database) -> None:
    events: list[str] = []

    async def a() -> None:
        async with database.transaction() as repos:
            events.append("A begin")
            await repos.users.ensure(1, T0)
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            await repos.users.ensure(11, T0)
            events.append("A fail")
            raise RuntimeError("A fails")

    async def b() -> None:
        async with database.transaction() as repos:
            events.append("B begin")
            await repos.users.ensure(2, T0)
            await asyncio.sleep(0)
            await repos.users.ensure(22, T0)
            events.append("B commit")

    results = await asyncio.gather(a(), b(), return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert results[1] is None
    assert events == ["A begin", "A fail", "B begin", "B commit"]
    async with database.read() as repos:
        assert await repos.users.get(1) is None
        assert await repos.users.get(11) is None
        assert await repos.users.get(2) is not None
        assert await repos.users.get(22) is not None
    assert _user_ids(database.path) == {2, 22}


async def test_many_concurrent_writers(database: Database) -> None:
    async def write(i: int) -> None:
        async with database.transaction() as repos:
            await repos.users.ensure(i, T0)
            await asyncio.sleep(0)
            await repos.users.ensure(1000 + i, T0)
            if i % 3 == 0:
                raise ValueError(i)

    results = await asyncio.gather(*(write(i) for i in range(1, 31)), return_exceptions=True)
    failed = {i for i, r in zip(range(1, 31), results, strict=True) if isinstance(r, ValueError)}
    assert failed == {i for i in range(1, 31) if i % 3 == 0}
    kept = {i for i in range(1, 31) if i % 3}
    assert _user_ids(database.path) == kept | {1000 + i for i in kept}


# --- dialogs --------------------------------------------------------------------------------


def _dialog_rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM dialog_states").fetchone()[0]


async def test_dialogs_round_trip(database: Database) -> None:
    key = "bot:1:chat:100:user:100"
    data = {"name": "Оля «Місто змістів»", "n": 3, "items": [1, 2], "nested": {"ok": True}}
    async with database.transaction() as repos:
        assert await repos.dialogs.get(key) == (None, {})
        await repos.dialogs.set_state(key, "Report:title")
        await repos.dialogs.set_data(key, data)
    async with database.read() as repos:
        assert await repos.dialogs.get(key) == ("Report:title", data)
        assert await repos.dialogs.get("other") == (None, {})

    async with database.transaction() as repos:
        await repos.dialogs.set_state(key, "Report:date")
    async with database.read() as repos:
        assert await repos.dialogs.get(key) == ("Report:date", data)


async def test_data_without_state_is_kept(database: Database) -> None:
    async with database.transaction() as repos:
        await repos.dialogs.set_data("k", {"lang": "uk"})
    async with database.read() as repos:
        assert await repos.dialogs.get("k") == (None, {"lang": "uk"})
    assert _dialog_rows(database.path) == 1


@pytest.mark.parametrize("state_first", [True, False])
async def test_cleared_dialog_leaves_no_row(database: Database, state_first: bool) -> None:
    key = "k1"
    async with database.transaction() as repos:
        await repos.dialogs.set_state(key, "Form:name")
        await repos.dialogs.set_data(key, {"name": "x"})
        await repos.dialogs.set_state("k2", "Other:step")
    assert _dialog_rows(database.path) == 2

    async with database.transaction() as repos:
        if state_first:
            await repos.dialogs.set_state(key, None)
            await repos.dialogs.set_data(key, {})
        else:
            await repos.dialogs.set_data(key, {})
            await repos.dialogs.set_state(key, None)
        assert await repos.dialogs.get(key) == (None, {})
    assert _dialog_rows(database.path) == 1
    async with database.read() as repos:
        assert await repos.dialogs.get("k2") == ("Other:step", {})


async def test_clearing_an_unknown_dialog_leaves_no_row(database: Database) -> None:
    async with database.transaction() as repos:
        await repos.dialogs.set_state("never", None)
        await repos.dialogs.set_data("never-either", {})
    assert _dialog_rows(database.path) == 0


# --- backup and integrity -------------------------------------------------------------------


async def test_backup_while_a_writer_is_active(database: Database, tmp_path: Path) -> None:
    async with database.transaction() as repos:
        for i in range(1, 51):
            await repos.users.ensure(i, T0)
        await repos.dialogs.set_data("kept", {"x": 1})

    writing = asyncio.Event()

    async def writer() -> None:
        # Each transaction writes a pair of users; a backup must never see half a pair.
        for i in range(100, 130):
            async with database.transaction() as repos:
                await repos.users.ensure(i, T0)
                writing.set()
                await asyncio.sleep(0)
                await repos.users.ensure(i + 1000, T0)
            await asyncio.sleep(0)

    target = tmp_path / "backups" / "copy.sqlite3"
    target.parent.mkdir()
    task = asyncio.create_task(writer())
    await writing.wait()
    await database.backup(target)
    await task

    ids = _user_ids(target)
    assert set(range(1, 51)) <= ids
    pairs = ids - set(range(1, 51))
    assert all((i + 1000 in pairs) for i in pairs if i < 1000)
    assert all((i - 1000 in pairs) for i in pairs if i >= 1000)
    # The writer held the lock when the backup was asked for: that transaction is in the copy.
    assert 100 in pairs

    copy = await Database.open(target)
    try:
        assert await copy.integrity_check() == "ok"
        assert copy.schema_version == len(MIGRATION_FILES)
        async with copy.read() as repos:
            assert await repos.users.count() == len(ids)
            assert await repos.dialogs.get("kept") == (None, {"x": 1})
    finally:
        await copy.close()
    # The live database is still whole and has everything.
    assert await database.integrity_check() == "ok"
    assert len(_user_ids(database.path)) == 50 + 60
