"""Numbered SQL migrations, each applied once in its own transaction, recorded in user_version."""

from __future__ import annotations

import logging
import re
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
    """Bring the schema up to date; return the resulting version."""
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    current = int(row[0]) if row else 0
    migrations = available_migrations()
    if current > len(migrations):
        raise DatabaseError(
            f"the database is at schema version {current}, newer than this bot "
            f"({len(migrations)}): upgrade the bot instead"
        )
    for migration in migrations[current:]:
        # executescript commits anything pending first, so the whole file, and its record in
        # user_version, runs inside one explicit transaction of its own.
        script = f"BEGIN;\n{migration.sql}\nPRAGMA user_version = {migration.version};\nCOMMIT;"
        try:
            await conn.executescript(script)
        except Exception:
            if conn.in_transaction:
                await conn.rollback()
            raise
        log.info("applied migration %s", migration.name)
        current = migration.version
    return current
