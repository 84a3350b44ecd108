"""Persistence: the only place that knows SQL or SQLite."""

from db.database import Database
from db.migrate import DatabaseError
from db.repositories import Repositories
from db.users import UserRecord

__all__ = ["Database", "DatabaseError", "Repositories", "UserRecord"]
