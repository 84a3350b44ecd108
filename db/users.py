"""Users of the bot: their language and role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite


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
        async with self.conn.execute(
            "SELECT id, language, role, first_seen FROM users WHERE id = ?", (user_id,)
        ) as cur:
            row = await cur.fetchone()
        return UserRecord(*row) if row else None

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
