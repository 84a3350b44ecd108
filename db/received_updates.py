"""The journal of updates received from Telegram: recorded before confirmed, marked when done."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from db.sql import Connection, padded


class ReceivedUpdateRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def record(self, updates: Sequence[tuple[int, str]], at: datetime) -> list[int]:
        """Record (update_id, payload) pairs; return the ids seen for the first time, in one
        statement (a trip) for a batch of up to 128.

        Race-safe across processes: of several workers recording one update at once exactly
        one gets its id back (the insert that won), the others an empty answer for it.
        """
        fresh: list[int] = []
        when = at.isoformat()
        for group in padded(updates):
            rows = ", ".join("(?, ?, ?)" for _ in group)
            won = await self.conn.fetch_all(
                "INSERT INTO received_updates (update_id, payload, received_at) "  # noqa: S608
                f"VALUES {rows} ON CONFLICT DO NOTHING RETURNING update_id",
                [value for update_id, payload in group for value in (update_id, payload, when)],
            )
            fresh.extend(int(row[0]) for row in won)
        return sorted(fresh)

    async def done(self, update_ids: Sequence[int], at: datetime) -> None:
        """Mark these updates handled, one statement for up to 128."""
        for group in padded(update_ids):
            marks = ", ".join("?" * len(group))
            await self.conn.execute(
                f"UPDATE received_updates SET handled_at = ? WHERE update_id IN ({marks})",  # noqa: S608
                (at.isoformat(), *group),
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
