"""The repositories one unit of work offers, all bound to its connection."""

from __future__ import annotations

from functools import cached_property

from db.activities import ActivityRepo
from db.activity_reports import ActivityReportRepo
from db.dialogs import DialogStateRepo
from db.events import EventRepo
from db.members import CoordinatorRepo, MembershipRepo
from db.newsletters import NewsletterRepo
from db.organisations import OrganisationRepo
from db.outbox import OutboxRepo
from db.projects import ProjectRepo
from db.public import PublicRepo
from db.received_updates import ReceivedUpdateRepo
from db.sql import Connection
from db.subscribers import SubscriberRepo
from db.users import UserRepo


class Repositories:
    """Everything a handler may read or change, over one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @cached_property
    def users(self) -> UserRepo:
        return UserRepo(self.conn)

    @cached_property
    def dialogs(self) -> DialogStateRepo:
        return DialogStateRepo(self.conn)

    @cached_property
    def organisations(self) -> OrganisationRepo:
        return OrganisationRepo(self.conn)

    @cached_property
    def memberships(self) -> MembershipRepo:
        return MembershipRepo(self.conn)

    @cached_property
    def coordinators(self) -> CoordinatorRepo:
        return CoordinatorRepo(self.conn)

    @cached_property
    def activities(self) -> ActivityRepo:
        return ActivityRepo(self.conn)

    @cached_property
    def reports(self) -> ActivityReportRepo:
        return ActivityReportRepo(self.conn)

    @cached_property
    def subscribers(self) -> SubscriberRepo:
        return SubscriberRepo(self.conn)

    @cached_property
    def newsletters(self) -> NewsletterRepo:
        return NewsletterRepo(self.conn)

    @cached_property
    def events(self) -> EventRepo:
        return EventRepo(self.conn)

    @cached_property
    def projects(self) -> ProjectRepo:
        return ProjectRepo(self.conn)

    @cached_property
    def public(self) -> PublicRepo:
        return PublicRepo(self.conn)

    @cached_property
    def received_updates(self) -> ReceivedUpdateRepo:
        return ReceivedUpdateRepo(self.conn)

    @cached_property
    def outbox(self) -> OutboxRepo:
        return OutboxRepo(self.conn)
