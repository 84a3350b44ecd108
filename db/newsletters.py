"""Monthly newsletters and their deliveries: a row per chat, parts counted as Telegram confirms."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.sql import Connection

NEWSLETTER_STATUSES = ("draft", "approved", "sending", "paused", "cancelled", "sent")
DELIVERY_STATES = ("pending", "sent", "failed")


@dataclass(frozen=True, slots=True)
class NewsletterRecord:
    id: int
    month: str
    status: str
    intro: str
    parts: tuple[str, ...]
    created_at: str
    approved_by: int | None
    started_at: str | None
    finished_at: str | None


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    chat_id: int
    parts_sent: int
    attempts: int
    waits: int = 0  # outages it met so far
    active: bool = True  # the chat was still subscribed when the row was read


@dataclass(frozen=True, slots=True)
class ConfirmedPart:
    """Telegram confirmed parts_sent parts of a delivery, after `attempts` sends in all."""

    chat_id: int
    parts_sent: int
    attempts: int


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    newsletter_id: int
    chat_id: int
    state: str
    parts_sent: int
    attempts: int
    last_error: str | None
    sent_at: str | None


def _iso(now: datetime) -> str:
    return now.isoformat(timespec="seconds")


def _precise(moment: datetime | None) -> str | None:
    # One format (UTC, microseconds) for next_attempt_at, so strings compare as moments do.
    return moment.isoformat(timespec="microseconds") if moment else None


_COLUMNS = "id, month, status, intro, parts, created_at, approved_by, started_at, finished_at"


def _newsletter(row: Sequence[Any]) -> NewsletterRecord:
    return NewsletterRecord(
        row[0], row[1], row[2], row[3], tuple(json.loads(row[4])), *tuple(row)[5:]
    )


class NewsletterRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- newsletters ---------------------------------------------------------------------------

    async def create(
        self,
        month: str,
        parts: Sequence[str],
        now: datetime,
        *,
        intro: str = "",
        status: str = "draft",
        approved_by: int | None = None,
    ) -> int:
        return await self.conn.insert(
            "INSERT INTO newsletters (month, status, intro, parts, created_at, approved_by) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (month, status, intro, json.dumps(list(parts), ensure_ascii=False), _iso(now),
             approved_by),
        )  # fmt: skip

    async def get(self, newsletter_id: int) -> NewsletterRecord | None:
        async with self.conn.execute(
            f"SELECT {_COLUMNS} FROM newsletters WHERE id = ?",  # noqa: S608 - constant columns
            (newsletter_id,),
        ) as cur:
            row = await cur.fetchone()
        return _newsletter(row) if row else None

    async def by_month(self, month: str) -> NewsletterRecord | None:
        async with self.conn.execute(
            f"SELECT {_COLUMNS} FROM newsletters WHERE month = ?",  # noqa: S608 - constant columns
            (month,),
        ) as cur:
            row = await cur.fetchone()
        return _newsletter(row) if row else None

    async def all(self) -> list[NewsletterRecord]:
        async with self.conn.execute(
            f"SELECT {_COLUMNS} FROM newsletters ORDER BY month"  # noqa: S608 - constant columns
        ) as cur:
            return [_newsletter(row) for row in await cur.fetchall()]

    async def status(self, newsletter_id: int) -> str | None:
        async with self.conn.execute(
            "SELECT status FROM newsletters WHERE id = ?", (newsletter_id,)
        ) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else None

    async def sender(self, newsletter_id: int) -> tuple[str, str] | None:
        """The process recorded as sending this newsletter and when it last said so.

        In a unit of work the row stays held until it ends, so two processes claiming the
        sending at once (check, then set_sender) take turns instead of both winning.
        """
        await self.conn.lock("newsletters", "id", newsletter_id)
        async with self.conn.execute(
            "SELECT sender, sender_seen FROM newsletters WHERE id = ? AND sender IS NOT NULL",
            (newsletter_id,),
        ) as cur:
            row = await cur.fetchone()
        return (str(row[0]), str(row[1])) if row else None

    async def set_sender(self, newsletter_id: int, sender: str | None, now: datetime) -> None:
        await self.conn.execute(
            "UPDATE newsletters SET sender = ?, sender_seen = ? WHERE id = ?",
            (sender, _iso(now) if sender else None, newsletter_id),
        )

    async def release_sender(self, newsletter_id: int, sender: str) -> None:
        await self.conn.execute(
            "UPDATE newsletters SET sender = NULL, sender_seen = NULL WHERE id = ? AND sender = ?",
            (newsletter_id, sender),
        )

    async def ids_with_status(self, status: str) -> list[int]:
        async with self.conn.execute(
            "SELECT id FROM newsletters WHERE status = ? ORDER BY id", (status,)
        ) as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    async def set_status(
        self, newsletter_id: int, status: str, *, only_from: Sequence[str]
    ) -> bool:
        """Move to status if the newsletter is in one of only_from; True if it moved."""
        marks = ", ".join("?" for _ in only_from)
        cur = await self.conn.execute(
            f"UPDATE newsletters SET status = ? WHERE id = ? AND status IN ({marks})",  # noqa: S608
            (status, newsletter_id, *only_from),
        )
        return cur.rowcount > 0

    async def start_sending(self, newsletter_id: int, now: datetime) -> int:
        """A pending delivery per active subscriber (never twice), and the status 'sending'.

        Returns the number of deliveries created now; call it inside one transaction.
        """
        created = await self.conn.fetch_all(
            "INSERT INTO deliveries (newsletter_id, chat_id, state) "
            "SELECT CAST(? AS BIGINT), chat_id, 'pending' FROM subscribers WHERE active = 1 "
            "ON CONFLICT DO NOTHING RETURNING chat_id",
            (newsletter_id,),
        )
        await self.conn.execute(
            "UPDATE newsletters SET status = 'sending', started_at = coalesce(started_at, ?) "
            "WHERE id = ?",
            (_iso(now), newsletter_id),
        )
        return len(created)

    async def finish_if_done(self, newsletter_id: int, now: datetime) -> bool:
        """Mark a 'sending' newsletter 'sent' once no delivery is pending."""
        cur = await self.conn.execute(
            "UPDATE newsletters SET status = 'sent', finished_at = ? "
            "WHERE id = ? AND status = 'sending' AND NOT EXISTS "
            "(SELECT 1 FROM deliveries WHERE newsletter_id = ? AND state = 'pending')",
            (_iso(now), newsletter_id, newsletter_id),
        )
        return cur.rowcount > 0

    # -- deliveries ----------------------------------------------------------------------------

    async def pending_batch(
        self,
        newsletter_id: int,
        after_chat: int | None,
        limit: int,
        *,
        due_at: datetime | None = None,
    ) -> list[PendingDelivery]:
        """The next pending deliveries in chat order, after after_chat (keyset paging); with
        due_at, only those not waiting out an outage beyond it. Each says whether its chat is
        still subscribed, so the engine needs no query per chat."""
        sql = (
            "SELECT chat_id, parts_sent, attempts, waits, EXISTS (SELECT 1 FROM subscribers s "
            "WHERE s.chat_id = deliveries.chat_id AND s.active = 1) FROM deliveries "
            "WHERE newsletter_id = ? AND state = 'pending' AND chat_id > ?"
        )
        params: list[object] = [newsletter_id, -(2**63) if after_chat is None else after_chat]
        if due_at is not None:
            sql += " AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
            params.append(_precise(due_at))
        rows = await self.conn.fetch_all(sql + " ORDER BY chat_id LIMIT ?", (*params, limit))
        return [PendingDelivery(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    async def delivery_waits(
        self, newsletter_id: int, chat_id: int, error: str, attempts: int, next_attempt: datetime
    ) -> None:
        """Telegram could not be reached: the delivery stays pending until next_attempt."""
        await self.conn.execute(
            "UPDATE deliveries SET last_error = ?, attempts = ?, next_attempt_at = ?, "
            "waits = waits + 1 WHERE newsletter_id = ? AND chat_id = ?",
            (error[:500], attempts, _precise(next_attempt), newsletter_id, chat_id),
        )

    async def waiting(self, newsletter_id: int, now: datetime) -> tuple[int, datetime | None]:
        """(pending deliveries waiting out an outage, when the first is tried again)."""
        async with self.conn.execute(
            "SELECT count(*), min(next_attempt_at) FROM deliveries "
            "WHERE newsletter_id = ? AND state = 'pending' AND next_attempt_at > ?",
            (newsletter_id, _precise(now)),
        ) as cur:
            row = await cur.fetchone()
        if not row or not row[0]:
            return 0, None
        return int(row[0]), datetime.fromisoformat(row[1])

    async def retry_now(self, newsletter_id: int) -> int:
        """An operator asked to try again: every waiting delivery is due now."""
        cur = await self.conn.execute(
            "UPDATE deliveries SET next_attempt_at = NULL "
            "WHERE newsletter_id = ? AND state = 'pending' AND next_attempt_at IS NOT NULL",
            (newsletter_id,),
        )
        return cur.rowcount

    async def part_sent(
        self,
        newsletter_id: int,
        chat_id: int,
        parts_sent: int,
        total_parts: int,
        attempts: int,
        now: datetime,
    ) -> None:
        """Telegram confirmed parts_sent parts; the delivery is sent once all are."""
        await self.parts_sent(
            newsletter_id, [ConfirmedPart(chat_id, parts_sent, attempts)], total_parts, now
        )

    async def parts_sent(
        self,
        newsletter_id: int,
        confirmed: Sequence[ConfirmedPart],
        total_parts: int,
        now: datetime,
    ) -> None:
        """part_sent for many deliveries in one statement (the engine's group commit)."""
        await self.conn.executemany(
            "UPDATE deliveries SET parts_sent = ?, attempts = ?, state = ?, sent_at = ? "
            "WHERE newsletter_id = ? AND chat_id = ?",
            [
                (c.parts_sent, c.attempts, "sent" if c.parts_sent >= total_parts else "pending",
                 _iso(now), newsletter_id, c.chat_id)
                for c in confirmed
            ],
        )  # fmt: skip

    async def delivery_failed(
        self, newsletter_id: int, chat_id: int, error: str, attempts: int
    ) -> None:
        await self.conn.execute(
            "UPDATE deliveries SET state = 'failed', last_error = ?, attempts = ? "
            "WHERE newsletter_id = ? AND chat_id = ?",
            (error[:500], attempts, newsletter_id, chat_id),
        )

    async def delivery(self, newsletter_id: int, chat_id: int) -> DeliveryRecord | None:
        async with self.conn.execute(
            "SELECT newsletter_id, chat_id, state, parts_sent, attempts, last_error, sent_at "
            "FROM deliveries WHERE newsletter_id = ? AND chat_id = ?",
            (newsletter_id, chat_id),
        ) as cur:
            row = await cur.fetchone()
        return DeliveryRecord(*row) if row else None

    async def counts(self, newsletter_id: int) -> dict[str, int]:
        """Deliveries per state, every state present (zero if none)."""
        counts = dict.fromkeys(DELIVERY_STATES, 0)
        async with self.conn.execute(
            "SELECT state, count(*) FROM deliveries WHERE newsletter_id = ? GROUP BY state",
            (newsletter_id,),
        ) as cur:
            for state, n in await cur.fetchall():
                counts[state] = int(n)
        return counts

    # -- the monthly issue: drafts, what they announced, the 2.1.3 activity --------------------

    async def update_draft(
        self, newsletter_id: int, parts: Sequence[str], *, intro: str | None = None
    ) -> bool:
        """New parts (and intro) for an issue not being sent yet; False once it is."""
        cur = await self.conn.execute(
            "UPDATE newsletters SET parts = ?, intro = coalesce(?, intro) "
            "WHERE id = ? AND status IN ('draft', 'approved')",
            (json.dumps(list(parts), ensure_ascii=False), intro, newsletter_id),
        )
        return cur.rowcount > 0

    async def approve(
        self,
        newsletter_id: int,
        approved_by: int | None,
        *,
        how: str | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Approve a draft; with `how` (and `now`), the audit log says how it was approved."""
        cur = await self.conn.execute(
            "UPDATE newsletters SET status = 'approved', approved_by = ? "
            "WHERE id = ? AND status = 'draft'",
            (approved_by, newsletter_id),
        )
        if cur.rowcount and how is not None and now is not None:
            await self.conn.execute(
                "INSERT INTO audit_log (at, actor, entity, entity_id, action, reason) "
                "VALUES (?, ?, 'newsletter', ?, 'approve', ?)",
                (_iso(now), approved_by, newsletter_id, how),
            )
        return cur.rowcount > 0

    async def sent_issues(self, limit: int = 36) -> list[NewsletterRecord]:
        """Issues that went out, newest first: the public archive."""
        async with self.conn.execute(
            f"SELECT {_COLUMNS} FROM newsletters WHERE status = 'sent' "  # noqa: S608
            "ORDER BY month DESC LIMIT ?",
            (limit,),
        ) as cur:
            return [_newsletter(row) for row in await cur.fetchall()]

    async def announced_before(self, month: str) -> set[tuple[str, int]]:
        """(indicator, year) pairs listed as met by issues of earlier months that went out."""
        async with self.conn.execute(
            "SELECT i.indicator_id, i.year FROM newsletter_indicators i "
            "JOIN newsletters n ON n.id = i.newsletter_id "
            "WHERE n.month < ? AND n.status IN ('sending', 'paused', 'sent')",
            (month,),
        ) as cur:
            return {(str(r[0]), int(r[1])) for r in await cur.fetchall()}

    async def set_announced(self, newsletter_id: int, met: Sequence[tuple[str, int]]) -> None:
        await self.conn.execute(
            "DELETE FROM newsletter_indicators WHERE newsletter_id = ?", (newsletter_id,)
        )
        await self.conn.executemany(
            "INSERT INTO newsletter_indicators (newsletter_id, indicator_id, year) "
            "VALUES (?, ?, ?)",
            [(newsletter_id, indicator, year) for indicator, year in met],
        )

    async def sent_without_activity(self) -> list[NewsletterRecord]:
        async with self.conn.execute(
            f"SELECT {_COLUMNS} FROM newsletters "  # noqa: S608 - constant columns
            "WHERE status = 'sent' AND activity_id IS NULL ORDER BY month"
        ) as cur:
            return [_newsletter(row) for row in await cur.fetchall()]

    async def set_activity(self, newsletter_id: int, activity_id: int) -> bool:
        """Link the issue's 2.1.3 activity; False when one is linked already."""
        cur = await self.conn.execute(
            "UPDATE newsletters SET activity_id = ? WHERE id = ? AND activity_id IS NULL",
            (activity_id, newsletter_id),
        )
        return cur.rowcount > 0

    async def activity_of(self, newsletter_id: int) -> int | None:
        async with self.conn.execute(
            "SELECT activity_id FROM newsletters WHERE id = ?", (newsletter_id,)
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row and row[0] is not None else None

    async def mark_draft_told(self, newsletter_id: int, now: datetime) -> bool:
        """Claim telling coordinators a draft is ready; False if they were told, or it is no
        longer a draft."""
        cur = await self.conn.execute(
            "UPDATE newsletters SET draft_told_at = ? "
            "WHERE id = ? AND draft_told_at IS NULL AND status = 'draft'",
            (_iso(now), newsletter_id),
        )
        return cur.rowcount > 0

    async def mark_waiting_told(self, newsletter_id: int, now: datetime) -> bool:
        """Claim telling coordinators an unapproved issue waits; False if they were told."""
        cur = await self.conn.execute(
            "UPDATE newsletters SET waiting_told_at = ? WHERE id = ? AND waiting_told_at IS NULL",
            (_iso(now), newsletter_id),
        )
        return cur.rowcount > 0
