"""Persistence: the only place that knows SQL or SQLite."""

from db.activities import ExportRow, NewActivity
from db.database import Database
from db.migrate import DatabaseError
from db.newsletters import DeliveryRecord, NewsletterRecord, PendingDelivery
from db.organisations import OrganisationRecord
from db.repositories import Repositories
from db.subscribers import SubscribeResult, SubscriberRecord, UnsubscribeResult
from db.users import UserRecord

__all__ = [
    "Database",
    "DatabaseError",
    "DeliveryRecord",
    "ExportRow",
    "NewActivity",
    "NewsletterRecord",
    "OrganisationRecord",
    "PendingDelivery",
    "Repositories",
    "SubscribeResult",
    "SubscriberRecord",
    "UnsubscribeResult",
    "UserRecord",
]
