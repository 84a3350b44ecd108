"""Persistence: the only place that knows SQL, SQLite or PostgreSQL."""

from db.activities import ExportRow, NewActivity
from db.database import Database
from db.errors import DatabaseError, IntegrityError, cannot_save
from db.newsletters import ConfirmedPart, DeliveryRecord, NewsletterRecord, PendingDelivery
from db.organisations import OrganisationRecord
from db.repositories import Repositories
from db.sql import Written
from db.subscribers import SubscribeResult, SubscriberRecord, UnsubscribeResult
from db.users import PROFILE_TABLES, UserRecord

__all__ = [
    "PROFILE_TABLES",
    "ConfirmedPart",
    "Database",
    "DatabaseError",
    "DeliveryRecord",
    "ExportRow",
    "IntegrityError",
    "NewActivity",
    "NewsletterRecord",
    "OrganisationRecord",
    "PendingDelivery",
    "Repositories",
    "SubscribeResult",
    "SubscriberRecord",
    "UnsubscribeResult",
    "UserRecord",
    "Written",
    "cannot_save",
]
