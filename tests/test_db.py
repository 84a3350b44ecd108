"""db/: migrations, pragmas, units of work, the write lock, repositories and backups."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from db import Database, DatabaseError, IntegrityError, migrate

T0 = datetime(2024, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
HEAD = migrate.HEAD


async def _user_ids(database: Database) -> set[int]:
    async with database.read() as repos:
        return {int(r[0]) for r in await repos.conn.fetch_all("SELECT id FROM users")}


async def _dialog_rows(database: Database) -> int:
    async with database.read() as repos:
        return int(await repos.conn.scalar("SELECT count(*) FROM dialog_states"))


# --- opening and migrating (the SQLite-only ones, and legacy files: tests/test_migrations.py) --


async def test_fresh_database_is_migrated(database: Database) -> None:
    assert database.schema_version == HEAD
    async with database.read() as repos:
        assert await repos.users.count() == 0
        assert await repos.conn.scalar("SELECT version_num FROM alembic_version") == HEAD
    assert await database.integrity_check() == "ok"


async def test_reopening_applies_nothing_again(
    database_target: str | Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="db.migrate")
    # tests/test_layers.py runs import-linter in-process, which disables existing loggers.
    monkeypatch.setattr(logging.getLogger("db.migrate"), "disabled", False)
    first = await Database.open(database_target)
    async with first.transaction() as repos:
        await repos.users.ensure(7, T0)
    await first.close()
    assert [r for r in caplog.records if "schema migrated" in r.getMessage()]

    caplog.clear()
    again = await Database.open(database_target)
    try:
        assert again.schema_version == HEAD
        assert not [r for r in caplog.records if "migrat" in r.getMessage()]
        async with again.read() as repos:
            assert (await repos.users.get(7)) is not None
    finally:
        await again.close()


async def test_a_newer_revision_refuses_to_open(database_target: str | Path) -> None:
    first = await Database.open(database_target)
    async with first.transaction() as repos:
        await repos.conn.execute("UPDATE alembic_version SET version_num = 'r9999'")
    await first.close()
    with pytest.raises(DatabaseError, match="r9999, newer than this bot"):
        await Database.open(database_target)


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
    with pytest.raises(IntegrityError):
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
    if database.dialect == "sqlite":
        # One writer: B waits for A. (PostgreSQL runs both at once, each in its own transaction.)
        assert events == ["A begin", "A fail", "B begin", "B commit"]
    async with database.read() as repos:
        assert await repos.users.get(1) is None
        assert await repos.users.get(11) is None
        assert await repos.users.get(2) is not None
        assert await repos.users.get(22) is not None
    assert await _user_ids(database) == {2, 22}


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
    assert await _user_ids(database) == kept | {1000 + i for i in kept}


# --- dialogs --------------------------------------------------------------------------------


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
    assert await _dialog_rows(database) == 1


@pytest.mark.parametrize("state_first", [True, False])
async def test_cleared_dialog_leaves_no_row(database: Database, state_first: bool) -> None:
    key = "k1"
    async with database.transaction() as repos:
        await repos.dialogs.set_state(key, "Form:name")
        await repos.dialogs.set_data(key, {"name": "x"})
        await repos.dialogs.set_state("k2", "Other:step")
    assert await _dialog_rows(database) == 2

    async with database.transaction() as repos:
        if state_first:
            await repos.dialogs.set_state(key, None)
            await repos.dialogs.set_data(key, {})
        else:
            await repos.dialogs.set_data(key, {})
            await repos.dialogs.set_state(key, None)
        assert await repos.dialogs.get(key) == (None, {})
    assert await _dialog_rows(database) == 1
    async with database.read() as repos:
        assert await repos.dialogs.get("k2") == ("Other:step", {})


async def test_clearing_an_unknown_dialog_leaves_no_row(database: Database) -> None:
    async with database.transaction() as repos:
        await repos.dialogs.set_state("never", None)
        await repos.dialogs.set_data("never-either", {})
    assert await _dialog_rows(database) == 0


# --- backup and integrity -------------------------------------------------------------------


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[Database]:
    opened = await Database.open(tmp_path / "bot.sqlite3")
    yield opened
    await opened.close()


def _file_user_ids(path: Path) -> set[int]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM users")}


async def test_backup_while_a_writer_is_active(sqlite_database: Database, tmp_path: Path) -> None:
    database = sqlite_database
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

    ids = _file_user_ids(target)
    assert set(range(1, 51)) <= ids
    pairs = ids - set(range(1, 51))
    assert all((i + 1000 in pairs) for i in pairs if i < 1000)
    assert all((i - 1000 in pairs) for i in pairs if i >= 1000)
    # The writer held the lock when the backup was asked for: that transaction is in the copy.
    assert 100 in pairs

    copy = await Database.open(target)
    try:
        assert await copy.integrity_check() == "ok"
        assert copy.schema_version == HEAD
        async with copy.read() as repos:
            assert await repos.users.count() == len(ids)
            assert await repos.dialogs.get("kept") == (None, {"x": 1})
    finally:
        await copy.close()
    # The live database is still whole and has everything.
    assert await database.integrity_check() == "ok"
    assert len(_file_user_ids(database.path)) == 50 + 60


async def test_a_server_database_is_backed_up_with_pg_dump(database: Database, tmp_path: Path):
    if database.dialect == "sqlite":
        pytest.skip("SQLite files are copied by db.backup (the test above)")
    with pytest.raises(DatabaseError, match="pg_dump"):
        await database.backup(tmp_path / "copy")
    assert not (tmp_path / "copy").exists()
