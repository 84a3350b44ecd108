"""SQLite files made by older code (numbered SQL migrations, PRAGMA user_version) upgrade in place
with nothing lost, and end with the very schema Alembic gives a new file."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect

import db.migrate
from db import Database, DatabaseError
from db.migrate import ALEMBIC_USER_VERSION, LEGACY_LAST, Migration, available_migrations

HEAD = db.migrate.HEAD


def test_head_is_the_newest_revision_alembic_knows() -> None:
    """db.migrate.HEAD lets a current database open without importing Alembic; a revision added
    to db/revisions must move it, or databases would be left behind."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", "db:revisions")
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD]


def legacy_database(path: Path, upto: int) -> None:
    """A file as the code of migration `upto` left it: the numbered SQL files, one by one."""
    with sqlite3.connect(path) as conn:
        for migration in available_migrations()[:upto]:
            conn.executescript(migration.sql)
            conn.execute(f"PRAGMA user_version = {migration.version}")


def fill_version_7(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Rows in every table schema 7 has; what each table holds afterwards."""
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            INSERT INTO users VALUES (100, 'uk', 'member', '2024-01-01T00:00:00+00:00');
            INSERT INTO users VALUES (5000000000, NULL, 'guest', '2024-01-02T00:00:00+00:00');
            INSERT INTO dialog_states VALUES ('bot:1:chat:100', 'Form:name', '{"a": 1}',
                                              '2024-01-01T00:00:00+00:00');
            INSERT INTO organisations (id, name, name_key, edrpou, status, contact, created_at,
                                       contact_person, areas, registered_by)
                VALUES (1, 'ГО Світло', 'го світло', '12345678', 'verified', '@svitlo',
                        '2024-01-01T00:00:00+00:00', 'Оля', '["1"]', 100),
                       (2, 'ГО Імпорт', 'го імпорт', NULL, 'pending', NULL,
                        '2024-01-01T00:00:00+00:00', NULL, '[]', NULL);
            INSERT INTO activities (id, plan_id, indicator_id, measure_code, organisation_id,
                                    reported_by, date, quantity, title, status, created_at,
                                    updated_at, evidence_kind, co_organisers)
                VALUES (1, 'annex4', '1.1.1-trainings', '1.1.1', 1, 100, '2024-02-01', 2,
                        'Тренінг', 'approved', '2024-02-02T00:00:00+00:00',
                        '2024-02-02T00:00:00+00:00', 'link', 'ГО Інша'),
                       (2, 'annex4', '1.1.1-trainings', '1.1.1', 2, NULL, '2024-02-03', 1,
                        'Імпорт', 'approved', '2024-02-03T00:00:00+00:00',
                        '2024-02-03T00:00:00+00:00', NULL, '');
            INSERT INTO activity_credits VALUES (1, 2);
            INSERT INTO audit_log (at, actor, entity, entity_id, action, reason)
                VALUES ('2024-01-01T00:00:00+00:00', NULL, 'organisation', 2, 'create',
                        'imported from old.csv');
            INSERT INTO subscribers VALUES (100, 100, 1, '2024-01-01T00:00:00+00:00', NULL, NULL);
            INSERT INTO newsletters (id, month, status, intro, parts, created_at, activity_id)
                VALUES (1, '2024-02', 'sent', 'Вступ', '["<b>1</b>"]',
                        '2024-02-01T00:00:00+00:00', 1),
                       (2, '2024-03', 'draft', '', '[]', '2024-03-01T00:00:00+00:00', NULL);
            INSERT INTO deliveries (newsletter_id, chat_id, state, parts_sent, attempts)
                VALUES (1, 100, 'sent', 1, 1);
            INSERT INTO newsletter_indicators VALUES (1, '1.1.1-trainings', 2024);
            INSERT INTO memberships VALUES (100, 1, 'approved', '2024-01-01T00:00:00+00:00',
                                            900, '2024-01-02T00:00:00+00:00');
            INSERT INTO coordinators VALUES (901, 900, '2024-01-01T00:00:00+00:00');
            INSERT INTO events (id, title, starts_at, ends_at, place, organiser, measures,
                                capacity, status, created_by, created_at)
                VALUES (1, 'Зустріч', '2024-05-01T10:00:00+00:00', '2024-05-01T12:00:00+00:00',
                        'Вінниця', 'ГО Світло', '["1.1.1"]', 10, 'approved', 900,
                        '2024-04-01T00:00:00+00:00');
            INSERT INTO event_attendance VALUES (1, 1, 100, 'going', '2024-04-02T00:00:00+00:00');
            INSERT INTO projects VALUES (1, 'Проєкт', 'ГО Світло', '[]', '', NULL, '2025-12-31',
                                         100, '2024-01-01T00:00:00+00:00');
            """
        )
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables}


async def test_a_version_7_file_upgrades_in_place_with_every_row(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    legacy_database(path, 7)
    before = fill_version_7(path)
    assert all(before.values()), [t for t, rows in before.items() if not rows]
    caplog.set_level(logging.INFO, logger="db.migrate")
    # tests/test_layers.py runs import-linter in-process, which disables existing loggers.
    monkeypatch.setattr(logging.getLogger("db.migrate"), "disabled", False)

    database = await Database.open(path)
    try:
        assert database.schema_version == HEAD
        applied = [r.getMessage() for r in caplog.records if "applied migration" in r.getMessage()]
        assert len(applied) == LEGACY_LAST - 7
        async with database.read() as repos:
            assert (await repos.users.get(5000000000)) is not None
            assert await repos.dialogs.get("bot:1:chat:100") == ("Form:name", {"a": 1})
            assert [a.id for a in await repos.activities.counted("annex4")] == [1, 2]
            assert (await repos.newsletters.get(1)).parts == ("<b>1</b>",)  # type: ignore[union-attr]
            assert await repos.events.attendees(1) == [100]
    finally:
        await database.close()

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == ALEMBIC_USER_VERSION
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
        # 0009: the imported organisation became verified; nothing else changed.
        assert conn.execute("SELECT status FROM organisations WHERE id = 2").fetchone() == (
            "verified",
        )
        conn.execute("UPDATE organisations SET status = 'pending' WHERE id = 2")
        for table, rows in before.items():
            after = sorted(conn.execute(f"SELECT * FROM {table}").fetchall())
            # Every old row is there with its old values (columns added since come after).
            assert [new[: len(old)] for new, old in zip(after, rows, strict=False)] == rows, table
            extra = after[len(rows) :]
            assert (table == "audit_log" and len(extra) == 1) or not extra, (table, extra)
        conn.execute("UPDATE organisations SET status = 'verified' WHERE id = 2")

    # The bot writes to it as to a new one.
    database = await Database.open(path)
    try:
        async with database.transaction() as repos:
            await repos.users.set_language(5000000000, "en")
            org = await repos.organisations.create("ГО Нова")
            assert org.id == 3
    finally:
        await database.close()


def _schema(path: Path) -> dict[str, Any]:
    """Everything reflection tells about the tables, in a form that compares."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        found = inspect(engine)
        schema: dict[str, Any] = {}
        for table in sorted(found.get_table_names()):
            schema[table] = {
                "columns": sorted(
                    (c["name"], str(c["type"]), bool(c["nullable"]) or bool(c.get("primary_key")),
                     str(c["default"]).strip("'") if c["default"] is not None else None)
                    for c in found.get_columns(table)
                ),
                "primary_key": found.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]),
                     str(i.get("dialect_options", {}).get("sqlite_where")))
                    for i in found.get_indexes(table)
                ),
                "checks": sorted(
                    " ".join(c["sqltext"].split()) for c in found.get_check_constraints(table)
                ),
                "unique": sorted(
                    tuple(u["column_names"]) for u in found.get_unique_constraints(table)
                ),
            }  # fmt: skip
        with engine.connect() as conn:
            sql = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
            ).fetchall()
            # WITHOUT ROWID is not reflected, nor ON DELETE of `REFERENCES t (id)`: SQLite
            # says both itself.
            for name, statement in sql:
                if name not in schema:
                    continue
                schema[name]["rowid"] = "WITHOUT ROWID" not in statement.upper()
                keys = conn.exec_driver_sql(f"PRAGMA foreign_key_list({name})").fetchall()
                schema[name]["foreign_keys"] = sorted((k[2], k[3], k[4], k[6]) for k in keys)
        return schema
    finally:
        engine.dispose()


async def test_legacy_upgraded_and_fresh_files_have_one_schema(tmp_path: Path) -> None:
    old, new = tmp_path / "old.sqlite3", tmp_path / "new.sqlite3"
    legacy_database(old, 7)
    for path in (old, new):
        await (await Database.open(path)).close()
    upgraded, fresh = _schema(old), _schema(new)
    assert upgraded.keys() == fresh.keys()
    for table in fresh:
        assert upgraded[table] == fresh[table], table


async def test_a_new_file_is_in_write_ahead_mode_with_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "bot.sqlite3"
    database = await Database.open(path)
    try:
        async with database.read() as repos:
            assert await repos.conn.scalar("PRAGMA foreign_keys") == 1
        async with database.transaction() as repos:
            assert await repos.conn.scalar("PRAGMA foreign_keys") == 1
    finally:
        await database.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == ALEMBIC_USER_VERSION


async def test_a_newer_numbered_schema_refuses_to_open(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    legacy_database(path, LEGACY_LAST)
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {LEGACY_LAST + 5}")
    with pytest.raises(DatabaseError) as info:
        await Database.open(path)
    assert f"schema version {LEGACY_LAST + 5}, newer than this bot" in str(info.value)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LEGACY_LAST + 5


async def test_a_failing_upgrade_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bot.sqlite3"
    legacy_database(path, 7)
    shipped = available_migrations()
    broken = Migration(9, "0009_broken.sql", "CREATE TABLE half_done (x INTEGER);\n"
                       "INSERT INTO no_such_table VALUES (1);")  # fmt: skip
    monkeypatch.setattr(
        db.migrate, "available_migrations", lambda: [*shipped[:8], broken, *shipped[9:]]
    )
    with pytest.raises(DatabaseError, match="no_such_table"):
        await Database.open(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 7
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half_done" not in tables and "received_updates" not in tables
    monkeypatch.undo()
    reopened = await Database.open(path)
    assert reopened.schema_version == HEAD
    await reopened.close()
