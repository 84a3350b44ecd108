"""Who is a coordinator: the one answer, from the settings and from those added in the bot."""

from __future__ import annotations

from collections.abc import Iterable

from db.database import Database


class Coordinators:
    """Coordinators configured at start-up (COORDINATOR_IDS, never removable in the bot) plus
    those added with /coordinators (stored in the database).

    Every feature that asks "is this person a coordinator?" or "whom do we tell?" asks this
    service, so a coordinator added in the bot receives exactly what a configured one does.
    """

    def __init__(self, db: Database, configured: Iterable[int] = ()) -> None:
        self._db = db
        self.configured = frozenset(configured)

    def is_configured(self, user_id: int) -> bool:
        return user_id in self.configured

    def decides(self, user_id: int, *, added: bool) -> bool:
        """The rule itself, for callers that already know whether the user was added in the bot
        (the user middleware reads that with the user's record, in the same query)."""
        return added or user_id in self.configured

    async def added(self) -> list[int]:
        """Those added in the bot who are not also configured, in the order they were added."""
        async with self._db.read() as repo:
            stored = await repo.coordinators.all()
        return [u for u in stored if u not in self.configured]

    async def all(self) -> list[int]:
        """Every coordinator, configured first, each once, in a stable order."""
        return sorted(self.configured) + await self.added()

    async def includes(self, user_id: int) -> bool:
        return user_id in self.configured or user_id in await self.added()
