"""The SQLite database: connections, pragmas, migrations and units of work.

Writes go through one connection, one transaction at a time (an asyncio lock), so two updates
handled at once never share a half-done transaction. Reads use separate connections, which in
WAL mode see only committed data.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from db.migrate import DatabaseError, migrate
from db.repositories import Repositories

log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 5000
READERS = 2


class Database:
    """One SQLite file behind a writer and a few readers."""

    def __init__(
        self, path: Path, writer: aiosqlite.Connection, readers: list[aiosqlite.Connection]
    ) -> None:
        self.path = path
        self._writer = writer
        self._readers = readers
        self._next_reader = itertools.cycle(readers)
        self._write_lock = asyncio.Lock()
        self.schema_version = 0
        self._after_commit: list[Callable[[], None]] = []

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        """Open (creating if needed) and migrate the database at path."""
        file = Path(path)
        opened: list[aiosqlite.Connection] = []
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            writer = await _connect(file, opened)
            await writer.execute("PRAGMA journal_mode=WAL")
            version = await migrate(writer)
            readers = [await _connect(file, opened) for _ in range(READERS)]
        except BaseException as e:
            for conn in opened:
                await conn.close()
            if isinstance(e, sqlite3.Error | OSError):
                raise DatabaseError(f"{file}: cannot be opened ({e})") from e
            if isinstance(e, DatabaseError):
                raise DatabaseError(f"{file}: {e}") from e
            raise
        db = cls(file, writer, readers)
        db.schema_version = version
        return db

    async def close(self) -> None:
        for conn in (*self._readers, self._writer):
            await conn.close()

    @asynccontextmanager
    async def transaction(self, *, quiet: bool = False) -> AsyncIterator[Repositories]:
        """A unit of work: everything inside commits together, or nothing does. `quiet`: it
        changes nothing an `after_commit` listener keeps (bookkeeping such as the journal's)."""
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield Repositories(self._writer)
            except BaseException:
                await self._writer.rollback()
                raise
            else:
                await self._writer.commit()
                for listener in () if quiet else self._after_commit:
                    listener()

    def after_commit(self, listener: Callable[[], None]) -> None:
        """Call listener after every unit of work of this process commits (caches of what the
        data says drop their copies; `single_statement` writes only dialogs and calls none)."""
        self._after_commit.append(listener)

    @asynccontextmanager
    async def single_statement(self) -> AsyncIterator[Repositories]:
        """A unit of work of ONE write statement, which SQLite commits by itself (autocommit):
        one trip to the driver's thread instead of three (BEGIN, the statement, COMMIT)."""
        async with self._write_lock:
            yield Repositories(self._writer)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Repositories]:
        """Read-only access to committed data."""
        yield Repositories(next(self._next_reader))

    async def backup(self, target: str | Path) -> None:
        """Copy the live database to target safely, even while the bot writes."""
        dest = await aiosqlite.connect(str(target))
        try:
            async with self._write_lock:
                await self._writer.backup(dest)
        finally:
            await dest.close()

    async def integrity_check(self) -> str:
        async with self._write_lock, self._writer.execute("PRAGMA integrity_check") as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else "no answer"


async def _connect(file: Path, opened: list[aiosqlite.Connection]) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN ourselves, so reads never open a transaction.
    conn = await aiosqlite.connect(str(file), isolation_level=None)
    opened.append(conn)
    await conn.execute("PRAGMA foreign_keys=ON")
    await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA synchronous=NORMAL")
    conn.row_factory = aiosqlite.Row
    return conn
