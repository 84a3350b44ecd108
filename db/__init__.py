"""Persistence: the only place that knows SQL or SQLite."""

from db.activities import ExportRow, NewActivity
from db.database import Database
from db.migrate import DatabaseError
from db.organisations import OrganisationRecord
from db.repositories import Repositories
from db.users import UserRecord

__all__ = [
    "Database",
    "DatabaseError",
    "ExportRow",
    "NewActivity",
    "OrganisationRecord",
    "Repositories",
    "UserRecord",
]
