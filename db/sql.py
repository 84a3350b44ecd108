"""The one query surface the repositories use, the same on SQLite and PostgreSQL.

Repositories write plain, portable SQL with `?` marks (or `:name` binds) and get tuple-like rows
back; underneath is SQLAlchemy Core's AsyncConnection, so the driver (aiosqlite or asyncpg) and
its parameter style are its business, not theirs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from types import TracebackType
from typing import Any

from sqlalchemy import CursorResult, Row, TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection

Params = Sequence[Any] | Mapping[str, Any]

# A `?` outside quotes; the queries of db/ never put one inside a string literal.
_MARK = re.compile(r"\?")


@lru_cache(maxsize=2048)
def _statement(sql: str) -> tuple[TextClause, int]:
    """The compiled-once text() of a query, its `?` marks numbered into named binds."""
    count = 0

    def number(_: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f":p{count - 1}"

    return text(_MARK.sub(number, sql)), count


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

    def __init__(self, result: CursorResult[Any]) -> None:
        self.rowcount = result.rowcount
        self._rows: list[Row[Any]] = list(result.fetchall()) if result.returns_rows else []

    async def fetchone(self) -> Row[Any] | None:
        return self._rows[0] if self._rows else None

    async def fetchall(self) -> list[Row[Any]]:
        return self._rows

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        return None


class _Pending:
    """A statement to run: awaited it gives a Cursor; `async with` gives it too."""

    __slots__ = ("_conn", "_cursor", "_params", "_sql")

    def __init__(self, conn: Connection, sql: str, params: Params) -> None:
        self._conn, self._sql, self._params = conn, sql, params
        self._cursor: Cursor | None = None

    def __await__(self) -> Any:
        return self._conn.run(self._sql, self._params).__await__()

    async def __aenter__(self) -> Cursor:
        self._cursor = await self._conn.run(self._sql, self._params)
        return self._cursor

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        return None


class Connection:
    """A connection in a unit of work (or a read), with the calls repositories make."""

    __slots__ = ("dialect", "raw")

    def __init__(self, raw: AsyncConnection) -> None:
        self.raw = raw
        self.dialect: str = raw.dialect.name  # 'sqlite' or 'postgresql'

    async def run(self, sql: str, params: Params = ()) -> Cursor:
        statement, marks = _statement(sql)
        return Cursor(await self.raw.execute(statement, _binds(marks, params)))

    def execute(self, sql: str, params: Params = ()) -> _Pending:
        """Run a statement: `await` it, or use it with `async with`, for its Cursor."""
        return _Pending(self, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        statement, marks = _statement(sql)
        batch = [_binds(marks, params) for params in rows]
        if batch:
            await self.raw.execute(statement, batch)

    async def execute_fetchall(self, sql: str, params: Params = ()) -> list[Row[Any]]:
        return await (await self.run(sql, params)).fetchall()

    async def fetch_one(self, sql: str, params: Params = ()) -> Row[Any] | None:
        return await (await self.run(sql, params)).fetchone()

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row[Any]]:
        return await (await self.run(sql, params)).fetchall()

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return row[0] if row is not None else None

    async def lock(self, table: str, key: str, value: object) -> None:
        """Hold a row until the unit of work ends, for a check that must not race with another
        writer's (PostgreSQL's row lock; SQLite's single writer holds everything already)."""
        if self.dialect == "postgresql":
            await self.run(
                f"SELECT 1 FROM {table} WHERE {key} = ? FOR UPDATE",  # noqa: S608 - our names
                (value,),
            )

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT of one row; the id the database gave it."""
        row = await self.fetch_one(f"{sql} RETURNING id", params)
        assert row is not None
        return int(row[0])
