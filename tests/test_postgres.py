"""Several processes on one database (two Database objects stand for two workers): what must
happen once happens once on SQLite and PostgreSQL alike, and the bot runs on PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import TripCounter
from bot.app import build_app
from bot.config import Secret, Settings
from db import Database, SubscribeResult, migrate, prepared
from db.events import NewEvent
from plan.clock import Clock
from tests.conftest import Chat, texts

T0 = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


async def _workers(target: str | Path, n: int = 2) -> list[Database]:
    return list(await asyncio.gather(*(Database.open(target) for _ in range(n))))


async def test_workers_opening_a_new_database_at_once_migrate_it_once(
    database_target: str | Path,
) -> None:
    opened = await _workers(database_target, 3)
    try:
        assert {db.schema_version for db in opened} == {migrate.HEAD}
        async with opened[0].read() as repos:
            assert await repos.conn.scalar("SELECT count(*) FROM alembic_version") == 1
    finally:
        for db in opened:
            await db.close()


async def test_an_update_received_by_two_workers_is_claimed_by_one(
    database_target: str | Path,
) -> None:
    workers = await _workers(database_target)
    try:

        async def record(db: Database, update_id: int) -> list[int]:
            async with db.transaction() as repos:
                return await repos.received_updates.record([(update_id, "{}")], T0)

        for update_id in range(1, 21):
            won = await asyncio.gather(*(record(db, update_id) for db in workers))
            assert sorted(won) == [[], [update_id]]
        async with workers[0].read() as repos:
            assert len(await repos.received_updates.unfinished()) == 20
    finally:
        for db in workers:
            await db.close()


async def test_the_last_place_goes_to_one_of_two_at_once(database_target: str | Path) -> None:
    workers = await _workers(database_target)
    try:
        async with workers[0].transaction() as repos:
            event_id = await repos.events.create(
                NewEvent(
                    title="Зустріч", starts_at=T0 + timedelta(days=1),
                    ends_at=T0 + timedelta(days=1, hours=2), place="Вінниця", organiser="ГО",
                    organisation_id=None, measures=(), description="", capacity=1,
                    status="approved", proposed_by=None, created_by=900,
                ),
                T0,
            )  # fmt: skip

        async def attend(db: Database, user: int) -> str | None:
            async with db.transaction() as repos:
                result = await repos.events.attend(event_id, user, T0)
                await asyncio.sleep(0.05)  # the other worker tries meanwhile
                return result.status

        for round_ in range(3):
            users = (100 + 2 * round_, 101 + 2 * round_)
            if round_:
                async with workers[0].transaction() as repos:
                    for user in await repos.events.attendees(event_id):
                        await repos.events.leave(event_id, user)
            got = await asyncio.gather(*(attend(db, u) for db, u in zip(workers, users)))
            assert sorted(got, key=str) == [None, "going"]
        async with workers[1].read() as repos:
            assert len(await repos.events.attendees(event_id)) == 1
    finally:
        for db in workers:
            await db.close()


async def test_the_bot_runs_on_the_database_it_is_given(
    database_target: str | Path, settings: Settings
) -> None:
    if isinstance(database_target, str):
        settings = dataclasses.replace(settings, database_url=Secret(database_target))
    app = await build_app(settings, Clock(settings.timezone))
    try:
        assert app.db.dialect == ("postgresql" if isinstance(database_target, str) else "sqlite")
        chat = Chat(app, 100)
        await chat.send("/start")
        sent = await chat.send("/subscribe")
        assert texts(sent)
        async with app.db.read() as repos:
            assert await repos.subscribers.count_active() == 1
            assert await repos.users.count() == 1
    finally:
        await app.close()


def test_db_check_and_backup_on_the_command_line(
    database_target: str | Path, tmp_path: Path
) -> None:
    if not isinstance(database_target, str):
        pytest.skip("the SQLite commands are tested in test_cli.py and test_backup.py")
    env = {**os.environ, "DATABASE_URL": database_target, "BOT_TOKEN": ""}
    cli = [sys.executable, "-m", "bot.cli", "db"]
    checked = subprocess.run(
        [*cli, "check"], capture_output=True, text=True, env=env, cwd=tmp_path, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("postgresql://127.0.0.1:")
    assert "integrity ok" in checked.stdout
    assert "postgres@" not in checked.stdout  # no user (or password) printed
    backup = subprocess.run(
        [*cli, "backup", str(tmp_path / "copy")],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert backup.returncode != 0
    assert "pg_dump" in backup.stderr and "Traceback" not in backup.stderr
    assert not (tmp_path / "copy").exists()


async def _drop_connections(url: str) -> int:
    """What a server restart does to the bot's pooled connections: every other backend on
    the database is ended (each waited for, up to 5 s: a restart is over before the next
    update comes); how many were."""
    import asyncpg

    admin = await asyncpg.connect(url)
    try:
        ended = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    return int(ended)


async def test_dropped_connections_are_survived(database_target_postgresql: str) -> None:
    db = await Database.open(database_target_postgresql)
    try:
        for _ in range(2):
            # Pooled connections of each kind, then dropped by the server: the next read, unit
            # of work and single statement each get an answer (a new connection, or a retry).
            async with db.transaction() as repos:
                await repos.users.ensure(1, T0)
            async with db.single_statement() as repos:
                await repos.users.ensure(2, T0)
            async with db.read() as repos:
                assert await repos.users.count() == 2
            assert await _drop_connections(database_target_postgresql) >= 2
            async with db.read() as repos:
                assert await repos.users.count() == 2
            async with db.transaction() as repos:
                await repos.users.ensure(3, T0)
                await repos.users.ensure(4, T0)
            async with db.single_statement() as repos:
                await repos.users.ensure(5, T0)
            async with db.read() as repos:
                assert await repos.users.count() == 5
            async with db.transaction() as repos:
                await repos.conn.execute("DELETE FROM users WHERE id > 2")
    finally:
        await db.close()


async def test_the_bot_answers_the_next_update_after_its_connections_drop(
    database_target_postgresql: str, settings: Settings
) -> None:
    settings = dataclasses.replace(settings, database_url=Secret(database_target_postgresql))
    app = await build_app(settings, Clock(settings.timezone))
    try:
        chat = Chat(app, 100)
        await chat.send("/start")
        await chat.send("/subscribe")
        assert await _drop_connections(database_target_postgresql) >= 1
        assert texts(await chat.send("/unsubscribe"))
        async with app.db.read() as repos:
            assert await repos.subscribers.count_active() == 0
    finally:
        await app.close()


async def test_db_s_statements_are_prepared_when_it_opens(database_target_postgresql: str) -> None:
    db = await Database.open(database_target_postgresql)
    try:
        # Each runs in one trip on the connections opened at start-up, the first time too.
        async with db.read() as repos:
            with TripCounter() as counter:
                await repos.events.upcoming(T0)
                await repos.dialogs.stored(["a", "b"])
        assert counter.trips == 2, counter.kinds
        async with db.single_statement() as repos:
            with TripCounter() as counter:
                await repos.users.ensure(1, T0)
                assert await repos.subscribers.subscribe(1, 1, T0) == SubscribeResult.new
        assert counter.trips == 2, counter.kinds
    finally:
        await db.close()
    # Every whole statement of db/ is one the server takes: a mistake in one shows here, on
    # PostgreSQL, even without a test that runs it.
    engine = create_async_engine(database_target_postgresql.replace("://", "+asyncpg://", 1))
    try:
        async with engine.connect() as conn:
            assert await prepared.prepare(conn) == len(prepared.statements()) > 100
    finally:
        await engine.dispose()
