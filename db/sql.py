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
from sqlalchemy import TextClause, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

Params = Sequence[Any] | Mapping[str, Any]
Rows = list[Sequence[Any]]

# A `?` outside quotes; the queries of db/ never put one inside a string literal.
_MARK = re.compile(r"\?")


@lru_cache(maxsize=2048)
def _named(sql: str) -> tuple[str, int]:
    """The query with its `?` marks numbered into named binds (:p0, :p1…), and their count."""
    count = 0

    def number(_: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f":p{count - 1}"

    return _MARK.sub(number, sql), count


@lru_cache(maxsize=2048)
def _text(sql: str) -> TextClause:
    return text(sql)


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

    __slots__ = ("_conn", "_params", "_sql")

    def __init__(self, conn: Connection, sql: str, params: Params) -> None:
        self._conn, self._sql, self._params = conn, sql, params

    def __await__(self) -> Any:
        return self._conn.run(self._sql, self._params).__await__()

    async def __aenter__(self) -> Cursor:
        return await self._conn.run(self._sql, self._params)

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        return None


class Connection:
    """A connection in a unit of work (or a read), with the calls repositories make."""

    dialect = ""  # 'sqlite' or 'postgresql'

    async def run(self, sql: str, params: Params = ()) -> Cursor:
        raise NotImplementedError

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        raise NotImplementedError

    def execute(self, sql: str, params: Params = ()) -> _Pending:
        """Run a statement: `await` it, or use it with `async with`, for its Cursor."""
        return _Pending(self, sql, params)

    async def execute_fetchall(self, sql: str, params: Params = ()) -> Rows:
        return await (await self.run(sql, params)).fetchall()

    async def fetch_one(self, sql: str, params: Params = ()) -> Sequence[Any] | None:
        return await (await self.run(sql, params)).fetchone()

    async def fetch_all(self, sql: str, params: Params = ()) -> Rows:
        return await (await self.run(sql, params)).fetchall()

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return row[0] if row is not None else None

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT of one row; the id the database gave it."""
        row = await self.fetch_one(f"{sql} RETURNING id", params)
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
        self.raw = raw

    async def run(self, sql: str, params: Params = ()) -> Cursor:
        statement, marks = _named(sql)
        binds = _binds(marks, params)
        try:
            if sql.startswith("SELECT"):
                found: Iterable[Any] = await self.raw.execute_fetchall(statement, binds)
                return Cursor(list(found), -1)
            cursor = await self.raw.execute(statement, binds)
            # Only a statement with RETURNING has rows to fetch: one more trip, then.
            rows: Rows = list(await cursor.fetchall()) if cursor.description is not None else []
        except sqlite3.Error as e:
            raise _wrapped(statement, binds, e) from e
        return Cursor(rows, cursor.rowcount)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
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
    """SQLAlchemy Core's AsyncConnection to PostgreSQL."""

    __slots__ = ("raw",)
    dialect = "postgresql"

    def __init__(self, raw: AsyncConnection) -> None:
        self.raw = raw

    async def run(self, sql: str, params: Params = ()) -> Cursor:
        statement, marks = _named(sql)
        result = await self.raw.execute(_text(statement), _binds(marks, params))
        rows: Rows = list(result.fetchall()) if result.returns_rows else []
        return Cursor(rows, result.rowcount)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        statement, marks = _named(sql)
        batch = [_binds(marks, params) for params in rows]
        if batch:
            await self.raw.execute(_text(statement), batch)
