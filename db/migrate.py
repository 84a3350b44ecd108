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

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from db.errors import DatabaseError

log = logging.getLogger(__name__)

LEGACY_LAST = 11  # the numbered SQL files end here; Alembic's baseline is this schema
BASELINE = "r0011"
# user_version of a file Alembic manages: code from before Alembic refuses it ("newer than this
# bot") instead of trying to create its tables again.
ALEMBIC_USER_VERSION = 1000
# Any constant of our own: the key of the advisory lock migrations hold on PostgreSQL.
_PG_MIGRATION_LOCK = 7_314_250_011

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

__all__ = ["DatabaseError", "available_migrations", "current_revision", "head", "migrate"]


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
    found = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
    return found or ""


def head() -> str:
    """The newest revision this code knows: what a migrated database is at."""
    found = ScriptDirectory.from_config(_config(None)).get_current_head()
    assert found is not None
    return found


def _config(conn: Connection | None) -> Config:
    config = Config()
    config.set_main_option("script_location", "db:revisions")
    if conn is not None:
        config.attributes["connection"] = conn
    return config


def _migrate(conn: Connection) -> str:
    config = _config(conn)
    script = ScriptDirectory.from_config(config)
    head = script.get_current_head()
    assert head is not None
    with conn.begin():
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        else:
            _legacy_sqlite(conn, config)
        current = MigrationContext.configure(conn).get_current_revision()
        known = {r.revision for r in script.walk_revisions()}
        if current is not None and current not in known:
            raise DatabaseError(
                f"the database is at schema revision {current}, newer than this bot "
                f"(which knows {head}): upgrade the bot instead"
            )
        if current != head:
            command.upgrade(config, "head")
            log.info("schema migrated from %s to %s", current or "nothing", head)
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA user_version = {ALEMBIC_USER_VERSION}")
    return head


def _legacy_sqlite(conn: Connection, config: Config) -> None:
    """An SQLite file made before Alembic: finish its numbered migrations, then stamp it."""
    tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master").fetchall()}
    if "alembic_version" in tables:
        return
    row = conn.exec_driver_sql("PRAGMA user_version").fetchone()
    version = int(row[0]) if row else 0
    if version == 0:
        return  # a new file: Alembic creates everything
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
    command.stamp(config, BASELINE)


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
