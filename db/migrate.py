"""Bringing the schema up to date when the database opens: Alembic revisions (db/revisions), and
before them, for SQLite files made by older code, the numbered SQL files (db/migrations).

Older code numbered its migrations 0001-0011 and recorded the last one in `PRAGMA user_version`.
Such a file is brought to 0011 by those same files, then stamped with Alembic's baseline (r0011,
the same schema) and carried on by Alembic like a new one. Everything runs in one transaction
under the write lock (SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory lock), so two processes
opening one database at once migrate it once: the second waits, then finds nothing to do.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from db.errors import DatabaseError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection
    from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger(__name__)

LEGACY_LAST = 11  # the numbered SQL files end here; Alembic's baseline is this schema
BASELINE = "r0011"
# The newest revision in db/revisions, what a migrated database is at. Kept here so that a start
# whose database is current never imports Alembic (with mako and pygments, ~1.5 % of the start);
# tests/test_migrations.py checks it against Alembic's own head, so a new revision that does not
# move it fails the tests.
HEAD = "r0012"
# user_version of a file Alembic manages: code from before Alembic refuses it ("newer than this
# bot") instead of trying to create its tables again.
ALEMBIC_USER_VERSION = 1000
# Any constant of our own: the key of the advisory lock migrations hold on PostgreSQL.
_PG_MIGRATION_LOCK = 7_314_250_011

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

__all__ = ["HEAD", "DatabaseError", "available_migrations", "current_revision", "migrate"]


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """The numbered SQL files in db/migrations, in order; numbering gaps are a packaging error."""
    found = []
    for entry in resources.files("db.migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(f"migration {migration.name} breaks the numbering at {expected}")
    return found


async def migrate(conn: AsyncConnection) -> str:
    """Bring the schema up to date; return the revision it is at."""
    return await conn.run_sync(_migrate)


async def current_revision(conn: AsyncConnection) -> str:
    return await conn.run_sync(_stored_revision) or ""


def _stored_revision(conn: Connection) -> str | None:
    """The revision alembic_version holds, read as Alembic reads it; None when there is no
    table, no row or several rows (Alembic itself then decides what that means)."""
    if conn.dialect.name == "postgresql":
        found = conn.exec_driver_sql("SELECT to_regclass('alembic_version')").scalar()
    else:
        found = conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).scalar()
    if found is None:
        return None
    rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").fetchall()
    return str(rows[0][0]) if len(rows) == 1 else None


def _config(conn: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "db:revisions")
    config.attributes["connection"] = conn
    return config


def _migrate(conn: Connection) -> str:
    with conn.begin():
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            legacy = False
        else:
            legacy = _legacy_sqlite(conn)
        if legacy or _stored_revision(conn) != HEAD:
            _upgrade(conn, stamp_baseline=legacy)
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA user_version = {ALEMBIC_USER_VERSION}")
    return HEAD


def _upgrade(conn: Connection, *, stamp_baseline: bool) -> None:
    """Alembic's part: stamp a legacy file with the baseline, then upgrade to the head. Alembic
    is imported here only, when the database is behind (or unknown to this code)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = _config(conn)
    if stamp_baseline:
        command.stamp(config, BASELINE)
    script = ScriptDirectory.from_config(config)
    if script.get_current_head() != HEAD:
        raise RuntimeError(f"db/migrate.py HEAD {HEAD} is not the newest revision in db/revisions")
    current = MigrationContext.configure(conn).get_current_revision()
    known = {r.revision for r in script.walk_revisions()}
    if current is not None and current not in known:
        raise DatabaseError(
            f"the database is at schema revision {current}, newer than this bot "
            f"(which knows {HEAD}): upgrade the bot instead"
        )
    if current != HEAD:
        command.upgrade(config, "head")
        log.info("schema migrated from %s to %s", current or "nothing", HEAD)


def _legacy_sqlite(conn: Connection) -> bool:
    """An SQLite file made before Alembic: finish its numbered migrations; True when it is
    then to be stamped with Alembic's baseline."""
    tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master").fetchall()}
    if "alembic_version" in tables:
        return False
    row = conn.exec_driver_sql("PRAGMA user_version").fetchone()
    version = int(row[0]) if row else 0
    if version == 0:
        return False  # a new file: Alembic creates everything
    if version > LEGACY_LAST:
        raise DatabaseError(
            f"the database is at schema version {version}, newer than this bot "
            f"({LEGACY_LAST}): upgrade the bot instead"
        )
    for migration in available_migrations()[version:LEGACY_LAST]:
        for statement in _statements(migration.sql):
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql(f"PRAGMA user_version = {migration.version}")
        log.info("applied migration %s", migration.name)
    return True


def _statements(sql: str) -> list[str]:
    """The complete statements of a script, in order (triggers' inner `;` included)."""
    statements, pending = [], ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                statements.append(pending.strip())
            pending = ""
    if pending.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in pending.splitlines()
    ):
        statements.append(pending.strip())  # a last statement without `;` still runs
    return statements
