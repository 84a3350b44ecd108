"""Users of the bot: their language and role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from db.members import Standing


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    language: str | None
    role: str
    first_seen: str


class UserRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def get(self, user_id: int) -> UserRecord | None:
        # execute_fetchall is one trip to the connection's thread; a cursor takes three.
        rows = await self.conn.execute_fetchall(
            "SELECT id, language, role, first_seen FROM users WHERE id = ?", (user_id,)
        )
        row = next(iter(rows), None)
        return UserRecord(*row) if row is not None else None

    async def profile(self, user_id: int) -> tuple[UserRecord | None, Standing]:
        """The user's record and standing in one query: every update asks for both."""
        rows = await self.conn.execute_fetchall(
            "SELECT u.id, u.language, u.role, u.first_seen, "
            "EXISTS (SELECT 1 FROM coordinators WHERE user_id = :u), "
            "(SELECT m.organisation_id FROM memberships m "
            " JOIN organisations o ON o.id = m.organisation_id "
            " WHERE m.user_id = :u AND m.status = 'approved' AND o.status = 'verified' "
            " ORDER BY m.decided_at LIMIT 1) "
            "FROM (SELECT :u AS id) AS asked LEFT JOIN users u ON u.id = asked.id",
            {"u": user_id},
        )
        row = next(iter(rows))
        record = UserRecord(*row[:4]) if row[0] is not None else None
        return record, Standing(coordinator=bool(row[4]), organisation_id=row[5])

    async def ensure(self, user_id: int, now: datetime) -> UserRecord:
        """The user's record, created on first sight."""
        await self.conn.execute(
            "INSERT INTO users (id, first_seen) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
            (user_id, now.isoformat(timespec="seconds")),
        )
        user = await self.get(user_id)
        assert user is not None
        return user

    async def set_language(self, user_id: int, language: str) -> None:
        await self.conn.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))

    async def count(self) -> int:
        async with self.conn.execute("SELECT count(*) FROM users") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0
