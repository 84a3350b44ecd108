"""Users of the bot: their language, role and the name Telegram gives for them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from db.members import Standing
from db.sql import Connection

# What `UserRepo.profile` reads: a write to any of them may change someone's profile.
PROFILE_TABLES = frozenset({"users", "coordinators", "memberships", "organisations"})


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    language: str | None
    role: str
    first_seen: str
    first_name: str | None = None
    username: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """Someone as people know them: the Telegram id, and the names last seen (if ever seen)."""

    id: int
    first_name: str | None = None
    username: str | None = None


class UserRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def get(self, user_id: int) -> UserRecord | None:
        # execute_fetchall is one trip to the connection's thread; a cursor takes three.
        rows = await self.conn.execute_fetchall(
            "SELECT id, language, role, first_seen, first_name, username FROM users WHERE id = ?",
            (user_id,),
        )
        row = next(iter(rows), None)
        return UserRecord(*row) if row is not None else None

    async def profile(self, user_id: int) -> tuple[UserRecord | None, Standing]:
        """The user's record and standing in one query: every update asks for both. It reads
        PROFILE_TABLES; a write that changes one person's rows of them says whose (`person=`)."""
        rows = await self.conn.execute_fetchall(
            "SELECT u.id, u.language, u.role, u.first_seen, u.first_name, u.username, "
            "EXISTS (SELECT 1 FROM coordinators WHERE user_id = :u), "
            "(SELECT m.organisation_id FROM memberships m "
            " JOIN organisations o ON o.id = m.organisation_id "
            " WHERE m.user_id = :u AND m.status = 'approved' AND o.status = 'verified' "
            " AND o.deactivated_at IS NULL "
            " ORDER BY m.decided_at LIMIT 1) "
            "FROM (SELECT CAST(:u AS BIGINT) AS id) AS asked LEFT JOIN users u ON u.id = asked.id",
            {"u": user_id},
        )
        row = next(iter(rows))
        record = UserRecord(*row[:6]) if row[0] is not None else None
        return record, Standing(coordinator=bool(row[6]), organisation_id=row[7])

    async def ensure(
        self,
        user_id: int,
        now: datetime,
        first_name: str | None = None,
        username: str | None = None,
    ) -> UserRecord:
        """The user's record, created (with their names) on first sight: one statement when it
        is new (so `Database.single_statement` suits it)."""
        rows = await self.conn.fetch_all(
            "INSERT INTO users (id, first_seen, first_name, username) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO NOTHING "
            "RETURNING id, language, role, first_seen, first_name, username",
            (user_id, now.isoformat(timespec="seconds"), first_name, username),
            person=user_id,
        )
        if rows:
            return UserRecord(*rows[0])
        user = await self.get(user_id)  # recorded already (by another process, just now)
        assert user is not None
        return user

    async def rename(self, user_id: int, first_name: str | None, username: str | None) -> None:
        """Keep the names Telegram now gives for the user (called only when they changed)."""
        await self.conn.execute(
            "UPDATE users SET first_name = ?, username = ? WHERE id = ?",
            (first_name, username, user_id),
            person=user_id,
        )

    async def people(self, user_ids: Iterable[int]) -> dict[int, Person]:
        """Each of these users as a Person; one never seen has only the id."""
        wanted = sorted(set(user_ids))
        found = {u: Person(u) for u in wanted}
        if wanted:
            marks = ", ".join("?" * len(wanted))
            rows = await self.conn.execute_fetchall(
                f"SELECT id, first_name, username FROM users WHERE id IN ({marks})",  # noqa: S608
                wanted,
            )
            found.update({int(r[0]): Person(int(r[0]), r[1], r[2]) for r in rows})
        return found

    async def set_language(self, user_id: int, language: str) -> None:
        await self.conn.execute(
            "UPDATE users SET language = ? WHERE id = ?", (language, user_id), person=user_id
        )

    async def count(self) -> int:
        async with self.conn.execute("SELECT count(*) FROM users") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0
