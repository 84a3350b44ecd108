"""Activities reported against the plan's indicators, loaded for the progress engine to count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from db.sql import Connection
from plan.progress import CountedActivity

ACTIVITY_STATUSES: tuple[str, ...] = ("draft", "submitted", "returned", "approved", "rejected")


@dataclass(frozen=True, slots=True)
class NewActivity:
    """An activity about to be stored."""

    plan_id: str
    indicator_id: str
    measure_code: str
    organisation_id: int
    date: date
    quantity: int
    title: str
    cso_participants: int | None = None
    council_participants: int | None = None
    description: str = ""
    evidence_url: str | None = None
    reported_by: int | None = None


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One approved activity as the CSV export and the drill-down lay it out."""

    id: int
    organisation: str
    measure_code: str
    indicator_id: str
    date: str
    quantity: int
    cso_participants: int | None
    council_participants: int | None
    title: str
    evidence_url: str | None
    partners: tuple[str, ...] = ()  # a joint activity is credited to these organisations too

    @property
    def organisations(self) -> tuple[str, ...]:
        return (self.organisation, *self.partners)


class ActivityRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add(
        self,
        activity: NewActivity,
        *,
        status: str,
        actor: int | None = None,
        reason: str | None = None,
    ) -> int:
        """Store an activity with the given status, with an audit entry; return its id."""
        if status not in ACTIVITY_STATUSES:
            raise ValueError(f"unknown activity status {status!r}")
        now = _now()
        new_id = await self.conn.insert(
            "INSERT INTO activities (plan_id, indicator_id, measure_code, organisation_id, "
            "reported_by, date, quantity, cso_participants, council_participants, title, "
            "description, evidence_url, status, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                activity.plan_id,
                activity.indicator_id,
                activity.measure_code,
                activity.organisation_id,
                activity.reported_by,
                activity.date.isoformat(),
                activity.quantity,
                activity.cso_participants,
                activity.council_participants,
                activity.title,
                activity.description,
                activity.evidence_url,
                status,
                now,
                now,
            ),
        )
        await self.conn.execute(
            "INSERT INTO audit_log (at, actor, entity, entity_id, action, reason) "
            "VALUES (?, ?, 'activity', ?, ?, ?)",
            (now, actor, new_id, f"create:{status}", reason),
        )
        return new_id

    async def add_approved(
        self, activity: NewActivity, *, actor: int | None = None, reason: str | None = None
    ) -> int:
        """Store an activity already approved (an import of checked data), with an audit entry."""
        return await self.add(activity, status="approved", actor=actor, reason=reason)

    async def credit(self, activity_id: int, organisation_id: int) -> None:
        """Credit a joint activity to one more organisation."""
        await self.conn.execute(
            "INSERT INTO activity_credits (activity_id, organisation_id) VALUES (?, ?) "
            "ON CONFLICT DO NOTHING",
            (activity_id, organisation_id),
        )

    async def mark_duplicate(
        self, activity_id: int, original_id: int, *, actor: int | None, reason: str | None = None
    ) -> None:
        now = _now()
        await self.conn.execute(
            "UPDATE activities SET duplicate_of = ?, updated_at = ? WHERE id = ?",
            (original_id, now, activity_id),
        )
        await self.conn.execute(
            "INSERT INTO audit_log (at, actor, entity, entity_id, action, reason) "
            "VALUES (?, ?, 'activity', ?, 'duplicate', ?)",
            (now, actor, activity_id, reason),
        )

    async def counted(self, plan_id: str) -> list[CountedActivity]:
        """The approved, non-duplicate activities of a plan, as the progress engine takes them.

        Those of a rejected organisation are left out; those of one still pending come with
        `verified=False`: the engine decides what counts, and says how many wait.
        """
        # Served from a covering index (0009) and the organisations' primary key.
        rows = await self.conn.execute_fetchall(
            "SELECT a.id, a.indicator_id, a.date, a.quantity, a.cso_participants, "
            "a.council_participants, o.status = 'verified' "
            "FROM activities a JOIN organisations o ON o.id = a.organisation_id "
            "WHERE a.plan_id = ? AND a.status = 'approved' AND a.duplicate_of IS NULL "
            "AND o.status != 'rejected'",
            (plan_id,),
        )
        return [
            CountedActivity(
                id=row[0],
                indicator_id=row[1],
                date=date.fromisoformat(row[2]),
                quantity=row[3],
                cso_participants=row[4],
                council_participants=row[5],
                verified=bool(row[6]),
            )
            for row in rows
        ]

    async def export_rows(self, plan_id: str) -> list[ExportRow]:
        """The approved, non-duplicate activities of a plan, in date order, each with the
        partners a joint report credited it to, for the CSV export and the drill-down."""
        rows = await self.conn.fetch_all(
            "SELECT a.id, o.name, a.measure_code, a.indicator_id, a.date, a.quantity, "
            "a.cso_participants, a.council_participants, a.title, a.evidence_url "
            "FROM activities a JOIN organisations o ON o.id = a.organisation_id "
            "WHERE a.plan_id = ? AND a.status = 'approved' AND a.duplicate_of IS NULL "
            "ORDER BY a.date, a.id",
            (plan_id,),
        )
        partners = await partners_of(self.conn, plan_id)
        return [
            ExportRow(
                id=row[0], organisation=row[1], measure_code=row[2], indicator_id=row[3],
                date=row[4], quantity=row[5], cso_participants=row[6],
                council_participants=row[7], title=row[8], evidence_url=row[9],
                partners=partners.get(row[0], ()),
            )
            for row in rows
        ]  # fmt: skip

    async def count(self, plan_id: str | None = None) -> int:
        sql = "SELECT count(*) FROM activities"
        params: tuple[str, ...] = ()
        if plan_id is not None:
            sql += " WHERE plan_id = ?"
            params = (plan_id,)
        async with self.conn.execute(sql, params) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def audit_count(self, entity: str | None = None) -> int:
        sql = "SELECT count(*) FROM audit_log"
        params: tuple[str, ...] = ()
        if entity is not None:
            sql += " WHERE entity = ?"
            params = (entity,)
        async with self.conn.execute(sql, params) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0


async def partners_of(
    conn: Connection, plan_id: str, dates: tuple[str, str] | None = None
) -> dict[int, tuple[str, ...]]:
    """The partners each approved activity of a plan is credited to, by name (the reporting
    organisation itself left out); with `dates`, only activities dated between them."""
    sql = (
        "SELECT c.activity_id, p.name FROM activity_credits c "
        "JOIN activities a ON a.id = c.activity_id "
        "JOIN organisations p ON p.id = c.organisation_id "
        "WHERE a.plan_id = ? AND a.status = 'approved' AND a.duplicate_of IS NULL "
        "AND c.organisation_id != a.organisation_id"
    )
    params: list[object] = [plan_id]
    if dates is not None:
        sql += " AND a.date BETWEEN ? AND ?"
        params += dates
    found: dict[int, list[str]] = {}
    for activity_id, name in await conn.fetch_all(sql, params):
        found.setdefault(int(activity_id), []).append(str(name))
    return {key: tuple(sorted(names)) for key, names in found.items()}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
