"""What goes wrong with the database, said in terms the rest of the bot can act on."""

from __future__ import annotations

import sqlite3

import sqlalchemy.exc
from sqlalchemy.exc import DBAPIError

# What SQLite says when a write cannot be saved now (the disk, or another process holding it).
_SQLITE_CANNOT_SAVE = ("database or disk is full", "disk i/o error", "database is locked")
# PostgreSQL's SQLSTATE classes for the same: out of resources (53: disk full, out of memory,
# too many connections) and the server going away (08: connection exceptions).
_POSTGRES_CANNOT_SAVE = ("53", "08")


class DatabaseError(RuntimeError):
    """The database cannot be used; the message says why in one line."""


def driver_error(error: BaseException) -> BaseException:
    """The driver's own exception under SQLAlchemy's wrapper (or the error itself)."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        return error.orig
    return error


def cannot_save(error: BaseException) -> bool:
    """Whether a write failed for a passing reason (full disk, locked file, lost server), so the
    person is told to try again later, rather than for a bug."""
    cause = driver_error(error)
    if isinstance(cause, sqlite3.OperationalError):
        return any(problem in str(cause).lower() for problem in _SQLITE_CANNOT_SAVE)
    state = str(getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None) or "")
    return state[:2] in _POSTGRES_CANNOT_SAVE


# A constraint refused a write (a CHECK, a duplicate key), whichever database said so.
IntegrityError = sqlalchemy.exc.IntegrityError
