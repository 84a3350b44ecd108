"""The database, SQLite or PostgreSQL: engines, migrations and units of work.

SQLite (a file path): writes go through one connection, one transaction at a time (an asyncio
lock, then BEGIN IMMEDIATE against other processes), so two updates handled at once never share
a half-done transaction; reads use other connections, which in WAL mode see only committed data.

PostgreSQL (a postgresql:// URL): every unit of work takes a pooled connection and a real
transaction of its own, so several processes may write at once; a decision that must not be
taken twice is a conditional UPDATE, and a check-then-write holds its row (Connection.lock).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from db.errors import DatabaseError, driver_error
from db.migrate import current_revision, migrate
from db.prepared import prepare
from db.repositories import Repositories
from db.sql import Connection, ServerConnection, SqliteConnection, Written

log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 5000
OPEN_ATTEMPTS = 5  # a new file another process is setting up at the same moment
READERS = 2  # SQLite connections kept for reads (more open while many read at once)
POOL = 10  # PostgreSQL connections per process, for writes and for reads each
RECYCLE_S = 1800  # a PostgreSQL connection is renewed after this long
PREPARED_CACHE = 512  # statements kept prepared per PostgreSQL connection (db/ has ~130)


def is_url(target: str | Path) -> bool:
    """Whether DATABASE settings name a server (a URL) rather than an SQLite file."""
    return isinstance(target, str) and "://" in target


class Database:
    """One database behind units of work (`transaction()`) and committed reads (`read()`)."""

    def __init__(
        self,
        label: str,
        writes: AsyncEngine,
        reads: AsyncEngine,
        held: list[AsyncConnection],
    ) -> None:
        self.label = label  # the file, or the server and database name (never the password)
        self._writes = writes
        self._reads = reads
        # SQLite: the connections held open for the life of the database, the writer first.
        self._held = held
        drivers = [_driver(conn) for conn in held]
        self._writer: aiosqlite.Connection | None = drivers[0] if drivers else None
        self._next_reader = itertools.cycle(drivers[1:]) if drivers else None
        self._write_lock = asyncio.Lock()
        self.schema_version = ""
        self._after_commit: list[Callable[[Written], None]] = []

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self._writes.dialect.name

    @property
    def path(self) -> Path | None:
        """The SQLite file; None on PostgreSQL."""
        return Path(self.label) if self.dialect == "sqlite" else None

    @classmethod
    async def open(cls, target: str | Path) -> Database:
        """Open (creating an SQLite file if needed) and migrate the database: `target` is an
        SQLite file path or a postgresql://user:password@host:port/db URL."""
        if is_url(target):
            return await cls._open_server(str(target))
        for attempt in range(1, OPEN_ATTEMPTS + 1):
            try:
                return await cls._open_file(Path(target))
            except DatabaseError as e:
                # Two processes creating one new file at once: SQLite answers "locked" without
                # waiting when both switch it to WAL together; the other one is nearly done.
                if "database is locked" not in str(e) or attempt == OPEN_ATTEMPTS:
                    raise
                log.info("%s is being set up by another process; trying again", target)
                await asyncio.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    @classmethod
    async def _open_file(cls, file: Path) -> Database:
        url = f"sqlite+aiosqlite:///{file}"
        writes = create_async_engine(url, pool_size=1, max_overflow=0, pool_reset_on_return=None)
        reads = create_async_engine(url, pool_size=READERS, max_overflow=0)
        for engine in (writes, reads):
            event.listen(engine.sync_engine, "connect", _sqlite_connected)
        event.listen(writes.sync_engine, "begin", _begin_immediate)
        event.listen(writes.sync_engine, "connect", _write_ahead_log)
        held: list[AsyncConnection] = []
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            held.append(await writes.connect())
            version = await migrate(held[0])
            for _ in range(READERS):
                held.append(await reads.connect())
        except BaseException as e:
            for conn in held:
                await conn.close()
            await writes.dispose()
            await reads.dispose()
            _reraise(str(file), e)
        db = cls(str(file), writes, reads, held)
        db.schema_version = version
        return db

    @classmethod
    async def _open_server(cls, url: str) -> Database:
        try:
            parsed = make_url(url)
        except ArgumentError as e:
            raise DatabaseError(f"DATABASE_URL is not a database URL ({e})") from None
        if parsed.get_backend_name() not in ("postgresql", "postgres"):
            raise DatabaseError("DATABASE_URL must be a postgresql:// URL")
        parsed = parsed.set(drivername="postgresql+asyncpg")
        label = (
            f"postgresql://{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database}"
        )
        # No pre-ping (a trip per unit of work, three for a transaction): a connection the
        # server dropped while it sat in the pool is left out at checkout (_drop_closed), one
        # that fails on its first statement is retried once (ServerConnection), and the failure
        # empties the pool of connections as old; pool_recycle renews a connection a firewall
        # may have forgotten silently.
        # LIFO: the connection used last is taken again, so a bot that is not busy runs on
        # the connection(s) opened at start-up, whose statements are prepared already (a
        # statement asyncpg has not prepared on a connection costs it one more trip).
        pool: dict[str, Any] = {
            "pool_size": POOL,
            "pool_recycle": RECYCLE_S,
            "pool_use_lifo": True,
            "connect_args": {"prepared_statement_cache_size": PREPARED_CACHE},
        }
        writes = create_async_engine(parsed, **pool)
        # Autocommit: reads, and single statements that each commit by themselves.
        reads = create_async_engine(
            parsed, isolation_level="AUTOCOMMIT", skip_autocommit_rollback=True, **pool
        )
        for engine in (writes, reads):
            event.listen(engine.sync_engine, "checkout", _drop_closed)
        try:
            async with writes.connect() as conn:
                version = await migrate(conn)
                # Start-up, once per process: each engine's first connection (the dialect
                # asks the server four questions on it) with db/'s statements prepared, rather
                # than in the first updates that read or write.
                await prepare(conn)
            async with reads.connect() as conn:
                await prepare(conn)
        except BaseException as e:
            await writes.dispose()
            await reads.dispose()
            _reraise(label, e)
        db = cls(label, writes, reads, [])
        db.schema_version = version
        return db

    async def close(self) -> None:
        for conn in self._held:
            await conn.close()
        await self._writes.dispose()
        await self._reads.dispose()

    @asynccontextmanager
    async def transaction(self, *, quiet: bool = False) -> AsyncIterator[Repositories]:
        """A unit of work: everything inside commits together, or nothing does. `quiet`: what
        it writes is kept up to date by the writer itself (a user's own record), or kept by no
        `after_commit` listener (the journal's bookkeeping): no listener is told."""
        if self._writer is None:
            async with self._writes.connect() as raw:
                # The transaction begins with its first statement (none: no trip at all).
                conn: Connection = ServerConnection(raw, retry=ServerConnection.FIRST)
                try:
                    yield Repositories(conn)
                except BaseException:
                    await raw.rollback()
                    raise
                await raw.commit()
            self._committed(conn.written, quiet)
            return
        async with self._write_lock:
            writer = self._writer
            # IMMEDIATE takes the file's write lock first, so a transaction never fails
            # half-way on "database is locked" when another process writes.
            await writer.execute("BEGIN IMMEDIATE")
            conn = SqliteConnection(writer)
            try:
                yield Repositories(conn)
            except BaseException:
                await writer.rollback()
                raise
            else:
                await writer.commit()
                self._committed(conn.written, quiet)

    def _committed(self, written: Written, quiet: bool) -> None:
        if quiet or not written:
            return
        for listener in self._after_commit:
            listener(written)

    def after_commit(self, listener: Callable[[Written], None]) -> None:
        """Call listener after every unit of work of this process that wrote something commits,
        with what it wrote (tables, and whose rows where a write said so), so caches of what
        the data says drop exactly the copies it may have changed."""
        self._after_commit.append(listener)

    @asynccontextmanager
    async def single_statement(self, *, quiet: bool = False) -> AsyncIterator[Repositories]:
        """Writes each committed by itself, in autocommit: one trip for a statement instead of
        three (BEGIN, the statement, COMMIT), on SQLite and PostgreSQL alike. Only for writes of
        which each statement alone leaves the data whole (one statement, or an insert tried
        before an update of the same row); on SQLite the writer's lock is held throughout, so
        no other unit of work of this process comes between them. `quiet` as for
        `transaction`."""
        if self._writer is None:
            async with self._reads.connect() as raw:
                # Not retried on a lost connection: the statement may have committed.
                conn: Connection = ServerConnection(raw, retry=ServerConnection.NEVER)
                try:
                    yield Repositories(conn)
                finally:
                    self._committed(conn.written, quiet)
            return
        async with self._write_lock:
            conn = SqliteConnection(self._writer)
            try:
                yield Repositories(conn)
            finally:
                # Whatever ran has committed, even when a later statement failed.
                self._committed(conn.written, quiet)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Repositories]:
        """Read-only access to committed data."""
        if self._next_reader is not None:
            # In WAL mode each statement of a reader sees what was committed when it began.
            yield Repositories(SqliteConnection(next(self._next_reader)))
            return
        async with self._reads.connect() as conn:
            yield Repositories(ServerConnection(conn, retry=ServerConnection.ALWAYS))

    async def backup(self, target: str | Path) -> None:
        """Copy the live SQLite database to target safely, even while the bot writes."""
        if self._writer is None:
            raise DatabaseError(
                "a PostgreSQL database is backed up with its own tool: "
                'pg_dump --format=custom --file=BACKUP "$DATABASE_URL" '
                '(and restored with pg_restore --dbname="$DATABASE_URL" BACKUP)'
            )
        dest = await aiosqlite.connect(str(target))
        try:
            async with self._write_lock:
                await self._writer.backup(dest)
        except sqlite3.Error as e:
            raise OSError(str(e)) from e
        finally:
            await dest.close()

    async def integrity_check(self) -> str:
        """SQLite's integrity check; on PostgreSQL, that the server answers with our schema
        (its storage is checked by the server's own tool, pg_amcheck)."""
        if self._writer is None:
            async with self._reads.connect() as conn:
                found = await current_revision(conn)
            return "ok" if found == self.schema_version else f"schema at {found}"
        async with self._write_lock:
            rows = await self._writer.execute_fetchall("PRAGMA integrity_check")
        row = next(iter(rows), None)
        return str(row[0]) if row else "no answer"


def _sqlite_connected(dbapi_connection: Any, _record: Any) -> None:
    # isolation_level None: the driver never opens a transaction by itself; we do (BEGIN
    # IMMEDIATE for writes), so a read never holds a snapshot open.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in ("foreign_keys=ON", f"busy_timeout={BUSY_TIMEOUT_MS}", "synchronous=NORMAL"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _begin_immediate(conn: Any) -> None:
    # Migrations run through SQLAlchemy: their BEGIN is IMMEDIATE too.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _write_ahead_log(dbapi_connection: Any, _record: Any) -> None:
    # Readers see committed data while the writer writes; the mode stays with the file.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _reraise(label: str, error: BaseException) -> NoReturn:
    """Opening failed: a one-line DatabaseError for what a person can act on."""
    if isinstance(error, DatabaseError):
        raise DatabaseError(f"{label}: {error}") from error
    if isinstance(error, SQLAlchemyError | OSError | sqlite3.Error):
        cause = driver_error(error)
        raise DatabaseError(f"{label}: cannot be opened ({cause})") from error
    raise error


def _drop_closed(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """A pooled PostgreSQL connection the server has closed meanwhile (a restart, a killed
    backend) is replaced at checkout: asyncpg knows it without a trip to the server."""
    driver = record.driver_connection
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def _driver(conn: AsyncConnection) -> aiosqlite.Connection:
    """The aiosqlite connection under a held SQLAlchemy connection (for SqliteConnection)."""
    held: Any = conn.sync_connection
    driver: aiosqlite.Connection = held.connection.driver_connection
    return driver
