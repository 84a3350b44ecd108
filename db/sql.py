"""The one query surface the repositories use, the same on SQLite and PostgreSQL.

Repositories write plain, portable SQL with `?` marks (or `:name` binds) and get tuple-like rows
back. On PostgreSQL a statement goes through SQLAlchemy Core's AsyncConnection (asyncpg); on
SQLite straight to the aiosqlite connection SQLAlchemy opened (sqlite3 takes `:name` binds
itself): one trip to the driver's thread instead of four, which is most of an update's cost.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from types import TracebackType
from typing import Any

import aiosqlite
from sqlalchemy import Dialect, TextClause, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

Params = Sequence[Any] | Mapping[str, Any]
Rows = list[Sequence[Any]]

# A `?` outside quotes; the queries of db/ never put one inside a string literal.
_MARK = re.compile(r"\?")
# The table a write statement changes (the statements of db/ start with their verb).
_WRITE = re.compile(
    r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)"
    r"\s+\"?(\w+)",
    re.IGNORECASE,
)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
ANY_TABLE = "*"  # a write whose table is not known: every listener must assume the worst


@lru_cache(maxsize=2048)
def _shape(sql: str) -> tuple[str | None, bool | None]:
    """The table a statement writes (None for a read, ANY_TABLE when it cannot be told), and
    whether it gives rows back (None: not known before it runs)."""
    if sql.startswith("SELECT"):
        return None, True
    found = _WRITE.match(sql)
    if found is None:
        return ANY_TABLE, None
    return found.group(1).lower(), bool(_RETURNING.search(sql))


class Written:
    """What a unit of work wrote, for the caches of what the data says (`after_commit`): each
    table, and for each the people whose rows alone were changed, or None when any row may
    have been (a statement that did not say whose rows it changes)."""

    __slots__ = ("_tables",)

    def __init__(self) -> None:
        self._tables: dict[str, set[int] | None] = {}

    def add(self, table: str, person: int | None = None) -> None:
        if person is None:
            self._tables[table] = None
        elif table not in self._tables:
            self._tables[table] = {person}
        else:
            people = self._tables[table]
            if people is not None:
                people.add(person)

    def __bool__(self) -> bool:
        return bool(self._tables)

    @property
    def tables(self) -> frozenset[str]:
        return frozenset(self._tables)

    def people(self, table: str) -> frozenset[int] | None:
        """Whose rows of `table` changed: None for any row (or an unknown table written)."""
        if ANY_TABLE in self._tables:
            return None
        people = self._tables.get(table, set())
        return None if people is None else frozenset(people)

    def touches(self, tables: frozenset[str]) -> bool:
        """Whether any of `tables` (or an unknown table) was written."""
        return ANY_TABLE in self._tables or not tables.isdisjoint(self._tables)


@lru_cache(maxsize=2048)
def _named(sql: str) -> tuple[str, int]:
    """The query with its `?` marks numbered into named binds (:p0, :p1…), and their count."""
    count = 0

    def number(_: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f":p{count - 1}"

    return _MARK.sub(number, sql), count


def padded(items: Sequence[Any], most: int = 128) -> list[list[Any]]:
    """`items` in groups of at most `most`, each made up to a power of two in length by
    repeating its last item: a statement with a mark (or a row) per item then has a few
    shapes only, each prepared once per PostgreSQL connection rather than once per length.
    For statements a repeated item leaves alone (`IN (…)`, `ON CONFLICT DO NOTHING`)."""
    groups = []
    for start in range(0, len(items), most):
        group = list(items[start : start + most])
        size = 1 << (len(group) - 1).bit_length()
        groups.append(group + group[-1:] * (size - len(group)))
    return groups


@lru_cache(maxsize=2048)
def _text(sql: str) -> TextClause:
    return text(sql)


def compiled_for(sql: str, dialect: Dialect) -> str:
    """The text `ServerConnection` sends the driver for sql: what asyncpg prepares."""
    return str(_text(_named(sql)[0]).compile(dialect=dialect))


def _binds(marks: int, params: Params) -> dict[str, Any]:
    if isinstance(params, Mapping):
        return dict(params)
    values = list(params)
    if len(values) != marks:
        raise ValueError(f"the query has {marks} marks, {len(values)} values were given")
    return {f"p{i}": value for i, value in enumerate(values)}


class Cursor:
    """What one statement gave: its rows (all fetched already) and how many rows it changed."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: Rows, rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    async def fetchone(self) -> Sequence[Any] | None:
        return self._rows[0] if self._rows else None

    async def fetchall(self) -> Rows:
        return self._rows


class _Pending:
    """A statement to run: awaited it gives a Cursor; `async with` gives it too."""

    __slots__ = ("_conn", "_params", "_person", "_sql")

    def __init__(self, conn: Connection, sql: str, params: Params, person: int | None) -> None:
        self._conn, self._sql, self._params, self._person = conn, sql, params, person

    def __await__(self) -> Any:
        return self._conn.run(self._sql, self._params, person=self._person).__await__()

    async def __aenter__(self) -> Cursor:
        return await self._conn.run(self._sql, self._params, person=self._person)

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        return None


class Connection:
    """A connection in a unit of work (or a read), with the calls repositories make.

    It notes the table of every write statement (`written`), so whoever keeps copies of the
    data learns what a committed unit of work changed without any feature telling it. A write
    that changes one person's rows only says so (`person=`): caches per person then drop that
    person's copy alone.
    """

    dialect = ""  # 'sqlite' or 'postgresql'

    def __init__(self) -> None:
        self.written = Written()

    async def run(self, sql: str, params: Params = (), *, person: int | None = None) -> Cursor:
        table, returns_rows = _shape(sql)
        if table is not None:
            self.written.add(table, person)
        return await self._run(sql, params, returns_rows)

    async def _run(self, sql: str, params: Params, returns_rows: bool | None) -> Cursor:
        raise NotImplementedError

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        table, _ = _shape(sql)
        if table is not None:
            self.written.add(table)
        await self._executemany(sql, rows)

    async def _executemany(self, sql: str, rows: Iterable[Params]) -> None:
        raise NotImplementedError

    def execute(self, sql: str, params: Params = (), *, person: int | None = None) -> _Pending:
        """Run a statement: `await` it, or use it with `async with`, for its Cursor. `person`:
        a write that changes only this person's rows (users, memberships, coordinators)."""
        return _Pending(self, sql, params, person)

    async def execute_fetchall(self, sql: str, params: Params = ()) -> Rows:
        return await (await self.run(sql, params)).fetchall()

    async def fetch_one(
        self, sql: str, params: Params = (), *, person: int | None = None
    ) -> Sequence[Any] | None:
        return await (await self.run(sql, params, person=person)).fetchone()

    async def fetch_all(self, sql: str, params: Params = (), *, person: int | None = None) -> Rows:
        return await (await self.run(sql, params, person=person)).fetchall()

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return row[0] if row is not None else None

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT of one row; the id the database gave it."""
        row = await (await self.run(f"{sql} RETURNING id", params)).fetchone()
        assert row is not None
        return int(row[0])

    async def lock(self, table: str, key: str, value: object) -> None:
        """Hold a row until the unit of work ends, for a check that must not race with another
        writer's (PostgreSQL's row lock; SQLite's single writer holds everything already)."""
        if self.dialect == "postgresql":
            await self.run(
                f"SELECT 1 FROM {table} WHERE {key} = ? FOR UPDATE",  # noqa: S608 - our names
                (value,),
            )


class SqliteConnection(Connection):
    """An aiosqlite connection (opened, configured and migrated through SQLAlchemy)."""

    __slots__ = ("raw",)
    dialect = "sqlite"

    def __init__(self, raw: aiosqlite.Connection) -> None:
        super().__init__()
        self.raw = raw

    async def _run(self, sql: str, params: Params, returns_rows: bool | None) -> Cursor:
        statement, marks = _named(sql)
        binds = _binds(marks, params)
        try:
            if returns_rows:
                # The statement and its rows in one trip to the driver's thread; a write with
                # RETURNING gives a row per row it changed.
                found: Rows = list(await self.raw.execute_fetchall(statement, binds))
                return Cursor(found, -1 if sql.startswith("SELECT") else len(found))
            cursor = await self.raw.execute(statement, binds)
            # A statement of unknown shape may still have rows: one more trip, then.
            rows: Rows = []
            if returns_rows is None and cursor.description is not None:
                rows = list(await cursor.fetchall())
        except sqlite3.Error as e:
            raise _wrapped(statement, binds, e) from e
        return Cursor(rows, cursor.rowcount)

    async def _executemany(self, sql: str, rows: Iterable[Params]) -> None:
        statement, marks = _named(sql)
        batch = [_binds(marks, params) for params in rows]
        try:
            await self.raw.executemany(statement, batch)
        except sqlite3.Error as e:
            raise _wrapped(statement, batch, e) from e


def _wrapped(statement: str, binds: Any, error: sqlite3.Error) -> BaseException:
    """SQLAlchemy's exception for a driver error, as on PostgreSQL: callers catch one kind
    (IntegrityError for a refused write) whichever database refused."""
    return DBAPIError.instance(statement, binds, error, sqlite3.Error)


class ServerConnection(Connection):
    """SQLAlchemy Core's AsyncConnection to PostgreSQL.

    A statement that fails because the server dropped the connection (a restart, a killed
    backend) runs once more on a new one when nothing of the unit of work can have taken
    effect: on an autocommit reader any statement (`ALWAYS`), in a transaction the first
    (`FIRST`: what it began died with the connection); never a write in autocommit (`NEVER`:
    it may have committed). SQLAlchemy has meanwhile dropped every pooled connection as old."""

    __slots__ = ("_retry", "_retry_next", "raw")
    dialect = "postgresql"
    NEVER, FIRST, ALWAYS = 0, 1, 2

    def __init__(self, raw: AsyncConnection, retry: int = NEVER) -> None:
        super().__init__()
        self.raw = raw
        self._retry = retry != self.NEVER
        self._retry_next = retry == self.ALWAYS

    async def _execute(self, statement: str, binds: Any) -> Any:
        try:
            result = await self.raw.execute(_text(statement), binds)
        except DBAPIError as e:
            if not (self._retry and (e.connection_invalidated or self._lost())):
                raise
            if not e.connection_invalidated:
                # asyncpg may report a connection closed mid-way as some other error.
                await self.raw.invalidate()
            # Ends the dead transaction (no trip: the connection is gone); the statement
            # then begins anew on a fresh connection.
            await self.raw.rollback()
            result = await self.raw.execute(_text(statement), binds)
        self._retry = self._retry_next
        return result

    def _lost(self) -> bool:
        driver: Any = self.raw.sync_connection
        driver = driver.connection.driver_connection if driver is not None else None
        return driver is None or bool(driver.is_closed())

    async def _run(self, sql: str, params: Params, returns_rows: bool | None) -> Cursor:
        statement, marks = _named(sql)
        result = await self._execute(statement, _binds(marks, params))
        rows: Rows = list(result.fetchall()) if result.returns_rows else []
        return Cursor(rows, result.rowcount)

    async def _executemany(self, sql: str, rows: Iterable[Params]) -> None:
        statement, marks = _named(sql)
        batch = [_binds(marks, params) for params in rows]
        if batch:
            await self._execute(statement, batch)
