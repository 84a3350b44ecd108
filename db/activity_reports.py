"""Activity reports sent from the bot, and their review: approved, returned or rejected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from db.sql import Connection

# A decision is taken only on a report awaiting one (status 'submitted'); this is its outcome.
RESULT_STATUS = {"approve": "approved", "return": "returned", "reject": "rejected"}


@dataclass(frozen=True, slots=True)
class ActivityReport:
    """A report as the dialog fills it in; `id` is set when a returned report is corrected."""

    id: int | None
    plan_id: str
    indicator_id: str
    measure_code: str
    organisation_id: int
    reported_by: int
    date: date
    quantity: int
    title: str
    cso_participants: int | None = None
    council_participants: int | None = None
    description: str = ""
    co_organisers: str = ""
    evidence_kind: str | None = None
    evidence: str | None = None  # a URL for a link, Telegram's file_id for a photo or document


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    id: int
    plan_id: str
    indicator_id: str
    measure_code: str
    organisation_id: int
    organisation_name: str
    reported_by: int | None
    date: date
    quantity: int
    cso_participants: int | None
    council_participants: int | None
    title: str
    description: str
    co_organisers: str
    evidence_kind: str | None
    evidence_url: str | None
    evidence_file_id: str | None
    status: str
    duplicate_of: int | None
    review_comment: str | None


_SELECT = (
    "SELECT a.id, a.plan_id, a.indicator_id, a.measure_code, a.organisation_id, o.name, "
    "a.reported_by, a.date, a.quantity, a.cso_participants, a.council_participants, a.title, "
    "a.description, a.co_organisers, a.evidence_kind, a.evidence_url, a.evidence_file_id, "
    "a.status, a.duplicate_of, a.review_comment "
    "FROM activities a JOIN organisations o ON o.id = a.organisation_id "
)


def _record(row: Sequence[Any]) -> ActivityRecord:
    values = list(row)
    values[7] = date.fromisoformat(values[7])
    return ActivityRecord(*values)


class ActivityReportRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def submit(self, report: ActivityReport) -> int:
        """Store a new report, or resubmit a returned one; return its id.

        Resubmitting only works for the reporter's own organisation's returned report (or one
        its author withdrew, kept as a draft); anything
        else raises LookupError and changes nothing.
        """
        link = report.evidence if report.evidence_kind == "link" else None
        file_id = report.evidence if report.evidence_kind in ("photo", "document") else None
        now = _now()
        values = (
            report.plan_id, report.indicator_id, report.measure_code, report.date.isoformat(),
            report.quantity, report.cso_participants, report.council_participants, report.title,
            report.description, report.co_organisers, report.evidence_kind, link, file_id, now,
        )  # fmt: skip
        if report.id is None:
            activity_id = await self.conn.insert(
                "INSERT INTO activities (plan_id, indicator_id, measure_code, date, quantity, "
                "cso_participants, council_participants, title, description, co_organisers, "
                "evidence_kind, evidence_url, evidence_file_id, updated_at, organisation_id, "
                "reported_by, status, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'submitted', ?)",
                (*values, report.organisation_id, report.reported_by, now),
            )
            action = "submit"
        else:
            async with self.conn.execute(
                "UPDATE activities SET plan_id = ?, indicator_id = ?, measure_code = ?, date = ?, "
                "quantity = ?, cso_participants = ?, council_participants = ?, title = ?, "
                "description = ?, co_organisers = ?, evidence_kind = ?, evidence_url = ?, "
                "evidence_file_id = ?, updated_at = ?, status = 'submitted' "
                "WHERE id = ? AND organisation_id = ? AND status IN ('returned', 'draft')",
                (*values, report.id, report.organisation_id),
            ) as cur:
                if cur.rowcount != 1:
                    raise LookupError(f"report {report.id} cannot be resubmitted")
            activity_id, action = report.id, "resubmit"
        await self._audit(report.reported_by, activity_id, action, None)
        return activity_id

    async def get(self, activity_id: int) -> ActivityRecord | None:
        async with self.conn.execute(_SELECT + "WHERE a.id = ?", (activity_id,)) as cur:
            row = await cur.fetchone()
        return _record(row) if row else None

    async def of_organisation(self, organisation_id: int, limit: int = 30) -> list[ActivityRecord]:
        """An organisation's reports, newest first (members see each other's)."""
        async with self.conn.execute(
            _SELECT + "WHERE a.organisation_id = ? ORDER BY a.id DESC LIMIT ?",
            (organisation_id, limit),
        ) as cur:
            return [_record(r) for r in await cur.fetchall()]

    async def pending(self, limit: int = 50) -> list[ActivityRecord]:
        async with self.conn.execute(
            _SELECT + "WHERE a.status = 'submitted' ORDER BY a.id LIMIT ?", (limit,)
        ) as cur:
            return [_record(r) for r in await cur.fetchall()]

    async def decide(
        self, activity_id: int, decision: str, *, actor: int, comment: str | None = None
    ) -> bool:
        """Apply a review decision if the report is still awaiting one; False when it is not.

        The status check is in the UPDATE itself, so two coordinators deciding at once cannot
        both succeed.
        """
        async with self.conn.execute(
            "UPDATE activities SET status = ?, review_comment = ?, reviewed_by = ?, "
            "reviewed_at = ?, updated_at = ? WHERE id = ? AND status = 'submitted'",
            (RESULT_STATUS[decision], comment, actor, _now(), _now(), activity_id),
        ) as cur:
            changed = cur.rowcount == 1
        if changed:
            await self._audit(actor, activity_id, decision, comment)
        return changed

    async def mark_duplicate(self, activity_id: int, original_id: int, *, actor: int) -> bool:
        """A joint event reported twice: count it once, credit both organisations."""
        original = await self.get(original_id)
        duplicate = await self.get(activity_id)
        if (
            original is None
            or duplicate is None
            or original.id == duplicate.id
            or original.duplicate_of is not None
            or original.indicator_id != duplicate.indicator_id
            or duplicate.status != "submitted"
        ):
            return False
        marked = await self.conn.execute(
            "UPDATE activities SET duplicate_of = ?, status = 'approved', reviewed_by = ?, "
            "reviewed_at = ?, updated_at = ? WHERE id = ? AND status = 'submitted'",
            (original_id, actor, _now(), _now(), activity_id),
        )
        if marked.rowcount != 1:
            return False  # decided by someone else meanwhile
        await self.conn.execute(
            "INSERT INTO activity_credits (activity_id, organisation_id) VALUES (?, ?) "
            "ON CONFLICT DO NOTHING",
            (original_id, duplicate.organisation_id),
        )
        await self._audit(actor, activity_id, "duplicate", f"of {original_id}")
        return True

    async def withdraw(self, activity_id: int, *, actor: int) -> bool:
        """Its author takes back a report still awaiting review: it becomes a draft again,
        which they may correct and send. False when it is not theirs or no longer waiting."""
        async with self.conn.execute(
            "UPDATE activities SET status = 'draft', updated_at = ? "
            "WHERE id = ? AND reported_by = ? AND status = 'submitted'",
            (_now(), activity_id, actor),
        ) as cur:
            changed = cur.rowcount == 1
        if changed:
            await self._audit(actor, activity_id, "withdraw", None)
        return changed

    async def times_submitted(self, activity_id: int) -> int:
        """How many times a report was sent for review (more than once: it was corrected)."""
        async with self.conn.execute(
            "SELECT count(*) FROM audit_log WHERE entity = 'activity' AND entity_id = ? "
            "AND action IN ('submit', 'resubmit')",
            (activity_id,),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def contributors(self, plan_id: str, indicator_id: str) -> list[int]:
        """Organisations whose approved reports (or credits) count towards an indicator."""
        async with self.conn.execute(
            "SELECT organisation_id FROM activities WHERE plan_id = ? AND indicator_id = ? "
            "AND status = 'approved' AND duplicate_of IS NULL "
            "UNION SELECT c.organisation_id FROM activity_credits c "
            "JOIN activities a ON a.id = c.activity_id "
            "WHERE a.plan_id = ? AND a.indicator_id = ? AND a.status = 'approved'",
            (plan_id, indicator_id, plan_id, indicator_id),
        ) as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    async def _audit(
        self, actor: int | None, activity_id: int, action: str, reason: str | None
    ) -> None:
        await self.conn.execute(
            "INSERT INTO audit_log (at, actor, entity, entity_id, action, reason) "
            "VALUES (?, ?, 'activity', ?, ?, ?)",
            (_now(), actor, activity_id, action, reason),
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
