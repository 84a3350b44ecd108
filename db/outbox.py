"""The outbox: messages recorded in the transaction of the change they follow from, then sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from db.sql import Connection

OUTBOX_STATES = ("pending", "sent", "failed")


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    chat_id: int
    kind: str
    text: str
    markup: str | None  # JSON of an inline keyboard
    attempts: int


@dataclass(frozen=True, slots=True)
class NewMessage:
    chat_id: int
    text: str
    markup: str | None = None


def _iso(moment: datetime) -> str:
    # Microseconds and one zone (UTC) throughout, so the strings compare as the moments do.
    return moment.isoformat(timespec="microseconds")


class OutboxRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add(self, messages: Sequence[NewMessage], kind: str, now: datetime) -> list[int]:
        """Record messages to send (in this order); their ids."""
        ids = []
        for m in messages:
            new_id = await self.conn.insert(
                "INSERT INTO outbox (chat_id, kind, text, markup, next_attempt_at, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (m.chat_id, kind, m.text, m.markup, _iso(now), _iso(now)),
            )
            ids.append(new_id)
        return ids

    async def due(
        self, now: datetime, limit: int, ids: Sequence[int] | None = None
    ) -> list[OutboxMessage]:
        """Pending messages whose time has come and that nobody holds, oldest first."""
        sql = (
            "SELECT id, chat_id, kind, text, markup, attempts FROM outbox "
            "WHERE state = 'pending' AND next_attempt_at <= ? "
            "AND (claimed_until IS NULL OR claimed_until < ?)"
        )
        args: list[object] = [_iso(now), _iso(now)]
        if ids is not None:
            sql += f" AND id IN ({', '.join('?' for _ in ids)})"
            args += ids
        sql += " ORDER BY id LIMIT ?"
        async with self.conn.execute(sql, (*args, limit)) as cur:
            return [OutboxMessage(*row) for row in await cur.fetchall()]

    async def earlier_pending(self, chat_id: int, message_id: int) -> bool:
        """Whether an older message to the same chat still waits (messages keep their order)."""
        async with self.conn.execute(
            "SELECT 1 FROM outbox WHERE chat_id = ? AND id < ? AND state = 'pending' LIMIT 1",
            (chat_id, message_id),
        ) as cur:
            return await cur.fetchone() is not None

    async def claim(self, message_id: int, now: datetime, lease: timedelta, by: str) -> bool:
        """Hold a pending message for one send; False if it is sent, failed or held."""
        cur = await self.conn.execute(
            "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id = ? "
            "AND state = 'pending' AND (claimed_until IS NULL OR claimed_until < ?)",
            (by, _iso(now + lease), message_id, _iso(now)),
        )
        return cur.rowcount > 0

    async def holders(self, now: datetime) -> list[str]:
        """The processes holding messages now."""
        async with self.conn.execute(
            "SELECT DISTINCT claimed_by FROM outbox WHERE state = 'pending' "
            "AND claimed_until >= ? AND claimed_by IS NOT NULL",
            (_iso(now),),
        ) as cur:
            return [str(r[0]) for r in await cur.fetchall()]

    async def release_holder(self, holder: str) -> None:
        """Free what a dead process held, so it is sent without waiting for the lease."""
        await self.conn.execute(
            "UPDATE outbox SET claimed_until = NULL WHERE claimed_by = ? AND state = 'pending'",
            (holder,),
        )

    async def sent(self, message_id: int, now: datetime) -> None:
        await self.conn.execute(
            "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, "
            "claimed_until = NULL WHERE id = ?",
            (_iso(now), message_id),
        )

    async def failed(self, message_id: int, error: str) -> None:
        await self.conn.execute(
            "UPDATE outbox SET state = 'failed', last_error = ?, attempts = attempts + 1, "
            "claimed_until = NULL WHERE id = ?",
            (error[:500], message_id),
        )

    async def later(self, message_id: int, error: str, next_attempt: datetime) -> None:
        """Keep it pending: Telegram could not take it now."""
        await self.conn.execute(
            "UPDATE outbox SET last_error = ?, attempts = attempts + 1, next_attempt_at = ?, "
            "claimed_until = NULL WHERE id = ?",
            (error[:500], _iso(next_attempt), message_id),
        )

    async def release(self, message_id: int) -> None:
        await self.conn.execute(
            "UPDATE outbox SET claimed_until = NULL WHERE id = ?", (message_id,)
        )

    async def next_attempt(self) -> datetime | None:
        """When the earliest pending message is due."""
        async with self.conn.execute(
            "SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'"
        ) as cur:
            row = await cur.fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    async def troubles(self, since: datetime) -> tuple[int, int]:
        """(messages waiting after a failed try, messages failed for good since `since`)."""
        async with self.conn.execute(
            "SELECT coalesce(sum(CASE WHEN state = 'pending' AND attempts > 0 THEN 1 END), 0), "
            "coalesce(sum(CASE WHEN state = 'failed' AND created_at >= ? THEN 1 END), 0) "
            "FROM outbox",
            (_iso(since),),
        ) as cur:
            row = await cur.fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def about(self, ids: Sequence[int], subject: str) -> None:
        """Name what these messages are about, so they can be found once it is decided."""
        if not ids:
            return
        marks = ", ".join("?" for _ in ids)
        await self.conn.execute(
            f"UPDATE outbox SET subject = ? WHERE id IN ({marks})",  # noqa: S608
            (subject, *ids),
        )

    async def delivered_as(self, message_id: int, telegram_id: int) -> None:
        """Telegram's id of a sent message (to take its buttons away later)."""
        await self.conn.execute(
            "UPDATE outbox SET message_id = ? WHERE id = ?", (telegram_id, message_id)
        )

    async def sent_about(self, subject: str) -> list[tuple[int, int]]:
        """(chat, Telegram message id) of every message sent about a subject."""
        async with self.conn.execute(
            "SELECT chat_id, message_id FROM outbox "
            "WHERE subject = ? AND state = 'sent' AND message_id IS NOT NULL ORDER BY id",
            (subject,),
        ) as cur:
            return [(int(r[0]), int(r[1])) for r in await cur.fetchall()]

    async def of_chat(self, chat_id: int) -> list[tuple[str, str]]:
        """(state, text) of every message to a chat, oldest first."""
        async with self.conn.execute(
            "SELECT state, text FROM outbox WHERE chat_id = ? ORDER BY id", (chat_id,)
        ) as cur:
            return [(str(r[0]), str(r[1])) for r in await cur.fetchall()]
