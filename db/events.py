"""Events, who comes to them (and who waits for a place), and what was sent about them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from db.sql import Connection


@dataclass(frozen=True, slots=True)
class NewEvent:
    title: str
    starts_at: datetime  # timezone-aware
    ends_at: datetime
    place: str
    organiser: str
    organisation_id: int | None
    measures: tuple[str, ...]
    description: str
    capacity: int | None
    status: str  # 'pending' (a member's proposal) or 'approved'
    proposed_by: int | None
    created_by: int


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: int
    title: str
    starts_at: datetime  # UTC
    ends_at: datetime
    place: str
    organiser: str
    organisation_id: int | None
    measures: tuple[str, ...]
    description: str
    capacity: int | None
    status: str
    proposed_by: int | None
    created_by: int
    reminded_at: str | None
    report_requested_at: str | None
    going: int = 0
    waiting: int = 0


@dataclass(frozen=True, slots=True)
class RsvpResult:
    """What an RSVP or its cancellation did: the user's new status, and who moved up."""

    status: str | None  # 'going', 'waiting', or None when not (or no longer) attending
    changed: bool
    promoted: int | None = None


_SELECT = (
    "SELECT e.id, e.title, e.starts_at, e.ends_at, e.place, e.organiser, e.organisation_id, "
    "e.measures, e.description, e.capacity, e.status, e.proposed_by, e.created_by, "
    "e.reminded_at, e.report_requested_at, "
    "(SELECT count(*) FROM event_attendance a WHERE a.event_id = e.id AND a.status = 'going'), "
    "(SELECT count(*) FROM event_attendance a WHERE a.event_id = e.id AND a.status = 'waiting') "
    "FROM events e "
)

# An event with one user's answer to it (the last column): our own constant text, no input.
_SEEN_BY = _SELECT.replace(  # noqa: S608
    " FROM events e ",
    ", (SELECT a.status FROM event_attendance a WHERE a.event_id = e.id AND a.user_id = ?) "
    "FROM events e ",
) + "WHERE e.id = ?"  # fmt: skip

# Whole statements as constants: db.prepared prepares them when the process starts.
_BY_ID = _SELECT + "WHERE e.id = ?"
_UPCOMING = _SELECT + "WHERE e.status = 'approved' AND e.ends_at > ? ORDER BY e.starts_at, e.id"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _record(row: Sequence[Any]) -> EventRecord:
    values = list(row)
    values[2] = datetime.fromisoformat(values[2])
    values[3] = datetime.fromisoformat(values[3])
    values[7] = tuple(json.loads(values[7]))
    return EventRecord(*values)


class EventRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def create(self, event: NewEvent, now: datetime) -> int:
        return await self.conn.insert(
            "INSERT INTO events (title, starts_at, ends_at, place, organiser, organisation_id, "
            "measures, description, capacity, status, proposed_by, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.title, _iso(event.starts_at), _iso(event.ends_at), event.place,
                event.organiser, event.organisation_id, json.dumps(list(event.measures)),
                event.description, event.capacity, event.status, event.proposed_by,
                event.created_by, _iso(now),
            ),
        )  # fmt: skip

    async def seen_by(self, event_id: int, user_id: int) -> tuple[EventRecord | None, str | None]:
        """The event and this user's answer to it ('going', 'waiting' or None), in one query."""
        rows = await self.conn.fetch_all(_SEEN_BY, (user_id, event_id))
        if not rows:
            return None, None
        row = rows[0]
        return _record(row[:-1]), (str(row[-1]) if row[-1] is not None else None)

    async def get(self, event_id: int) -> EventRecord | None:
        async with self.conn.execute(_BY_ID, (event_id,)) as cur:
            row = await cur.fetchone()
        return _record(row) if row else None

    async def upcoming(self, now: datetime) -> list[EventRecord]:
        """Approved events that have not ended yet, soonest first."""
        async with self.conn.execute(
            _UPCOMING,
            (_iso(now),),
        ) as cur:
            return [_record(r) for r in await cur.fetchall()]

    async def proposed(self) -> list[EventRecord]:
        """Proposals waiting for a coordinator's decision, oldest first."""
        async with self.conn.execute(_SELECT + "WHERE e.status = 'pending' ORDER BY e.id") as cur:
            return [_record(r) for r in await cur.fetchall()]

    async def to_remind(self, now: datetime) -> list[EventRecord]:
        """Approved events not started yet whose reminder has not gone out."""
        async with self.conn.execute(
            _SELECT + "WHERE e.status = 'approved' AND e.starts_at > ? AND e.reminded_at IS NULL "
            "ORDER BY e.starts_at",
            (_iso(now),),
        ) as cur:
            return [_record(r) for r in await cur.fetchall()]

    async def ended_unreported(self, now: datetime) -> list[EventRecord]:
        """Members' approved events that are over and whose organiser was not asked yet."""
        async with self.conn.execute(
            _SELECT + "WHERE e.status = 'approved' AND e.ends_at <= ? "
            "AND e.proposed_by IS NOT NULL AND e.report_requested_at IS NULL ORDER BY e.ends_at",
            (_iso(now),),
        ) as cur:
            return [_record(r) for r in await cur.fetchall()]

    async def decide(self, event_id: int, *, approve: bool) -> bool:
        """Approve or reject a proposal still pending; False when someone decided already."""
        async with self.conn.execute(
            "UPDATE events SET status = ? WHERE id = ? AND status = 'pending'",
            ("approved" if approve else "rejected", event_id),
        ) as cur:
            return cur.rowcount == 1

    async def cancel(self, event_id: int) -> bool:
        async with self.conn.execute(
            "UPDATE events SET status = 'cancelled' WHERE id = ? AND status = 'approved'",
            (event_id,),
        ) as cur:
            return cur.rowcount == 1

    async def move(self, event_id: int, starts_at: datetime, ends_at: datetime) -> bool:
        """New times; the reminder is due again for the new start."""
        async with self.conn.execute(
            "UPDATE events SET starts_at = ?, ends_at = ?, reminded_at = NULL "
            "WHERE id = ? AND status = 'approved'",
            (_iso(starts_at), _iso(ends_at), event_id),
        ) as cur:
            return cur.rowcount == 1

    async def mark_reminded(self, event_id: int, now: datetime) -> bool:
        """Claim the reminder; False when it went out already (e.g. before a restart)."""
        async with self.conn.execute(
            "UPDATE events SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL",
            (_iso(now), event_id),
        ) as cur:
            return cur.rowcount == 1

    async def mark_report_requested(self, event_id: int, now: datetime) -> bool:
        async with self.conn.execute(
            "UPDATE events SET report_requested_at = ? "
            "WHERE id = ? AND report_requested_at IS NULL",
            (_iso(now), event_id),
        ) as cur:
            return cur.rowcount == 1

    # --- attendance ---------------------------------------------------------------------------

    async def attendance(self, event_id: int, user_id: int) -> str | None:
        async with self.conn.execute(
            "SELECT status FROM event_attendance WHERE event_id = ? AND user_id = ?",
            (event_id, user_id),
        ) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else None

    async def attendees(self, event_id: int, status: str = "going") -> list[int]:
        async with self.conn.execute(
            "SELECT user_id FROM event_attendance WHERE event_id = ? AND status = ? ORDER BY id",
            (event_id, status),
        ) as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    async def everyone(self, event_id: int) -> list[int]:
        async with self.conn.execute(
            "SELECT user_id FROM event_attendance WHERE event_id = ? ORDER BY id", (event_id,)
        ) as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    async def attend(
        self, event_id: int, user_id: int, now: datetime, *, wait: bool = False
    ) -> RsvpResult:
        """Take a place if there is one; with `wait`, join the waiting list when it is full."""
        await self.conn.lock("events", "id", event_id)  # two people, one last place
        current = await self.attendance(event_id, user_id)
        if current is not None:
            return RsvpResult(current, changed=False)
        event = await self.get(event_id)
        assert event is not None
        full = event.capacity is not None and event.going >= event.capacity
        if full and not wait:
            return RsvpResult(None, changed=False)
        status = "waiting" if full else "going"
        await self.conn.execute(
            "INSERT INTO event_attendance (event_id, user_id, status, created_at) "
            "VALUES (?, ?, ?, ?)",
            (event_id, user_id, status, _iso(now)),
        )
        return RsvpResult(status, changed=True)

    async def leave(self, event_id: int, user_id: int) -> RsvpResult:
        """Give up a place (or a place in the queue); the first one waiting moves up."""
        await self.conn.lock("events", "id", event_id)
        async with self.conn.execute(
            "DELETE FROM event_attendance WHERE event_id = ? AND user_id = ? RETURNING status",
            (event_id, user_id),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return RsvpResult(None, changed=False)
        promoted = None
        event = await self.get(event_id)
        if (
            row[0] == "going"
            and event is not None
            and (event.capacity is None or event.going < event.capacity)
        ):
            async with self.conn.execute(
                "UPDATE event_attendance SET status = 'going' WHERE id = (SELECT id FROM "
                "event_attendance WHERE event_id = ? AND status = 'waiting' ORDER BY id LIMIT 1) "
                "RETURNING user_id",
                (event_id,),
            ) as cur:
                moved = await cur.fetchone()
            promoted = int(moved[0]) if moved else None
        return RsvpResult(None, changed=True, promoted=promoted)
