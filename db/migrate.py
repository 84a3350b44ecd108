"""Numbered SQL migrations, each applied once in its own transaction, recorded in user_version."""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources

import aiosqlite

log = logging.getLogger(__name__)


class DatabaseError(RuntimeError):
    """The database cannot be used; the message says why in one line."""


_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """The migrations shipped in db/migrations, in order; numbering gaps are a packaging error."""
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


async def migrate(conn: aiosqlite.Connection) -> int:
    """Bring the schema up to date; return the resulting version.

    Two processes may open a new file at once: each migration takes the write lock first
    (BEGIN IMMEDIATE) and re-reads the version under it, so the second process waits and then
    skips what the first applied instead of failing on "table already exists".
    """
    migrations = available_migrations()
    current = await _version(conn)
    _refuse_newer(current, len(migrations))
    for migration in migrations[current:]:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            current = await _version(conn)
            _refuse_newer(current, len(migrations))
            if current >= migration.version:
                await conn.rollback()
                continue
            for statement in _statements(migration.sql):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {migration.version}")
            await conn.commit()
        except BaseException:
            if conn.in_transaction:
                await conn.rollback()
            raise
        log.info("applied migration %s", migration.name)
        current = migration.version
    return current


async def _version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


def _refuse_newer(current: int, known: int) -> None:
    if current > known:
        raise DatabaseError(
            f"the database is at schema version {current}, newer than this bot "
            f"({known}): upgrade the bot instead"
        )


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
