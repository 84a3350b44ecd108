"""The repositories one unit of work offers, all bound to its connection."""

from __future__ import annotations

from functools import cached_property

import aiosqlite

from db.activities import ActivityRepo
from db.dialogs import DialogStateRepo
from db.organisations import OrganisationRepo
from db.users import UserRepo


class Repositories:
    """Everything a handler may read or change, over one connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
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
    def activities(self) -> ActivityRepo:
        return ActivityRepo(self.conn)
