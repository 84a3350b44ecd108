"""The journal of updates received from Telegram: recorded before confirmed, marked when done."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from db.sql import Connection


class ReceivedUpdateRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def record(self, updates: Iterable[tuple[int, str]], at: datetime) -> list[int]:
        """Record (update_id, payload) pairs; return the ids seen for the first time.

        Race-safe across processes: of several workers recording one update at once exactly
        one gets its id back (the insert that won), the others an empty answer for it.
        """
        fresh = []
        for update_id, payload in updates:
            if await self.claim(update_id, payload, at):
                fresh.append(update_id)
        return fresh

    async def claim(self, update_id: int, payload: str, at: datetime) -> bool:
        """Record one update; True when this call recorded it (nobody had before)."""
        won = await self.conn.fetch_one(
            "INSERT INTO received_updates (update_id, payload, received_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING update_id",
            (update_id, payload, at.isoformat()),
        )
        return won is not None

    async def done(self, update_id: int, at: datetime) -> None:
        await self.conn.execute(
            "UPDATE received_updates SET handled_at = ? WHERE update_id = ?",
            (at.isoformat(), update_id),
        )

    async def unfinished(self) -> list[tuple[int, str]]:
        """Recorded and never finished, oldest first."""
        async with self.conn.execute(
            "SELECT update_id, payload FROM received_updates WHERE handled_at IS NULL "
            "ORDER BY update_id"
        ) as cur:
            return [(int(row[0]), str(row[1])) for row in await cur.fetchall()]

    async def forget_handled(self, before: datetime) -> int:
        """Drop finished updates older than `before` (Telegram re-sends within a day at most)."""
        cur = await self.conn.execute(
            "DELETE FROM received_updates WHERE handled_at IS NOT NULL AND received_at < ?",
            (before.isoformat(),),
        )
        return cur.rowcount

    async def unfinished_before(self, before: datetime) -> list[tuple[int, str]]:
        """Recorded before `before` and never finished, oldest first: with several workers,
        those whose worker stopped (the others are still in hand somewhere)."""
        async with self.conn.execute(
            "SELECT update_id, payload FROM received_updates "
            "WHERE handled_at IS NULL AND received_at < ? ORDER BY update_id",
            (before.isoformat(),),
        ) as cur:
            return [(int(row[0]), str(row[1])) for row in await cur.fetchall()]
