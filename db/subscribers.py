"""Subscribers of the monthly newsletter: consent, unsubscription and chats Telegram refuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from db.sql import Connection

UNSUBSCRIBED = "unsubscribed"


class SubscribeResult(StrEnum):
    new = "new"
    reactivated = "reactivated"
    already = "already"


class UnsubscribeResult(StrEnum):
    unsubscribed = "unsubscribed"
    already = "already"
    never = "never"


@dataclass(frozen=True, slots=True)
class SubscriberRecord:
    user_id: int
    chat_id: int
    active: bool
    consented_at: str
    unsubscribed_at: str | None
    inactive_reason: str | None


def _iso(now: datetime) -> str:
    return now.isoformat(timespec="seconds")


class SubscriberRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def get(self, user_id: int) -> SubscriberRecord | None:
        async with self.conn.execute(
            "SELECT user_id, chat_id, active, consented_at, unsubscribed_at, inactive_reason "
            "FROM subscribers WHERE user_id = ?",
            (user_id,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return SubscriberRecord(row[0], row[1], bool(row[2]), row[3], row[4], row[5])

    async def subscribe(self, user_id: int, chat_id: int, now: datetime) -> SubscribeResult:
        """Record consent; a returning subscriber is active again with a fresh consent time.

        Each statement decides by itself (an insert of a new row, else a change of an inactive
        one), so this suits `Database.single_statement`: one trip for a new subscriber."""
        async with self.conn.execute(
            "INSERT INTO subscribers (user_id, chat_id, active, consented_at) VALUES (?, ?, 1, ?) "
            "ON CONFLICT (user_id) DO NOTHING",
            (user_id, chat_id, _iso(now)),
        ) as cur:
            if cur.rowcount == 1:
                return SubscribeResult.new
        async with self.conn.execute(
            "UPDATE subscribers SET chat_id = ?, active = 1, consented_at = ?, "
            "inactive_reason = NULL WHERE user_id = ? AND active = 0",
            (chat_id, _iso(now), user_id),
        ) as cur:
            reactivated = cur.rowcount == 1
        return SubscribeResult.reactivated if reactivated else SubscribeResult.already

    async def unsubscribe(self, user_id: int, now: datetime) -> UnsubscribeResult:
        """Stop the newsletter for this user; as `subscribe`, each statement decides by itself
        (one trip when they were subscribed)."""
        async with self.conn.execute(
            "UPDATE subscribers SET active = 0, unsubscribed_at = ?, inactive_reason = ? "
            "WHERE user_id = ? AND active = 1",
            (_iso(now), UNSUBSCRIBED, user_id),
        ) as cur:
            if cur.rowcount == 1:
                return UnsubscribeResult.unsubscribed
        if await self.get(user_id) is None:
            return UnsubscribeResult.never
        return UnsubscribeResult.already

    async def deactivate_chat(self, chat_id: int, reason: str) -> None:
        """Telegram refuses this chat (blocked, deleted): no more sends until a new /subscribe."""
        await self.conn.execute(
            "UPDATE subscribers SET active = 0, inactive_reason = ? "
            "WHERE chat_id = ? AND active = 1",
            (reason, chat_id),
        )

    async def is_active_chat(self, chat_id: int) -> bool:
        async with self.conn.execute(
            "SELECT 1 FROM subscribers WHERE chat_id = ? AND active = 1 LIMIT 1", (chat_id,)
        ) as cur:
            return await cur.fetchone() is not None

    async def count_active(self) -> int:
        async with self.conn.execute("SELECT count(*) FROM subscribers WHERE active = 1") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0
