"""PostgreSQL: the statements of db/ prepared on the connections opened at start-up.

asyncpg runs a statement in two trips the first time a connection sees it (Parse and Describe,
then Bind and Execute) and in one afterwards (SQLAlchemy keeps the prepared statement per
connection). A fresh process would pay the extra trip in the first update that runs each
statement; `prepare` pays it at start-up instead, on the connections the pool opens then, for
every whole statement written in db/: each string constant of its functions that is one, and
each module-level string that is one (a statement made of shared parts is best kept so). What is
put together at run time (a mark per item, an appended RETURNING) is prepared on first use.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
import types
from collections.abc import Iterator
from functools import cache

from sqlalchemy.ext.asyncio import AsyncConnection

from db.sql import compiled_for

log = logging.getLogger(__name__)
_VERBS = ("SELECT ", "INSERT INTO ", "UPDATE ", "DELETE FROM ", "WITH ")
_LEFT_OUT = {"migrate", "prepared"}  # run once, before the statements are prepared


def _constants(code: types.CodeType) -> Iterator[str]:
    for const in code.co_consts:
        if isinstance(const, str):
            yield const
        elif isinstance(const, types.CodeType):
            yield from _constants(const)


def _codes(module: types.ModuleType) -> Iterator[types.CodeType]:
    """The code of every function and method defined in module."""
    for value in vars(module).values():
        if inspect.isclass(value) and value.__module__ == module.__name__:
            members = list(vars(value).values())
        elif inspect.isfunction(value) and value.__module__ == module.__name__:
            members = [value]
        else:
            continue
        for member in members:
            if isinstance(member, staticmethod | classmethod):
                member = member.__func__
            elif isinstance(member, property):
                member = member.fget
            code = getattr(member, "__code__", None)
            if isinstance(code, types.CodeType):
                yield code


@cache
def statements() -> tuple[str, ...]:
    """Every whole SQL statement written as one string in db/'s modules: a constant of their
    functions' code or a module-level name (a fragment, ending in a space or an open bracket,
    is left out)."""
    import db

    found: set[str] = set()
    for info in pkgutil.iter_modules(db.__path__):
        if info.name in _LEFT_OUT:
            continue
        module = importlib.import_module(f"db.{info.name}")
        written = [v for v in vars(module).values() if isinstance(v, str)]
        for code in _codes(module):
            written.extend(_constants(code))
        found.update(s for s in written if s.startswith(_VERBS) and not s.endswith((" ", "(")))
    return tuple(sorted(found))


async def prepare(conn: AsyncConnection) -> int:
    """Prepare db/'s statements on this pooled PostgreSQL connection (one trip each), into the
    cache SQLAlchemy looks them up in; how many the server took. One it refuses (written for
    SQLite alone) is left out: it would fail when run too."""
    raw = await conn.get_raw_connection()
    # The private step SQLAlchemy's asyncpg cursor takes before it executes: the same cache,
    # keyed by the same compiled text. Should a SQLAlchemy release lack it, statements are
    # prepared on first use, as without this.
    step = getattr(raw.dbapi_connection, "_prepare", None)
    if step is None:
        log.warning("statements not prepared at start-up: SQLAlchemy's asyncpg has no _prepare")
        return 0
    import asyncpg  # here, not above: a start on SQLite has no use for it

    prepared = 0
    for sql in statements():
        try:
            await step(compiled_for(sql, conn.dialect), 0)
        except asyncpg.PostgresError as e:
            log.debug("not prepared (%s): %s", e, sql)
            continue
        prepared += 1
    return prepared
