"""What the public may see of approved activities: organisation names, never people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from db.activities import partners_of
from db.sql import Connection


@dataclass(frozen=True, slots=True)
class PublicActivity:
    """An approved activity as published: what, when, and which organisations (partners too)."""

    id: int
    measure_code: str
    indicator_id: str
    date: date
    title: str
    evidence_url: str | None
    organisations: tuple[str, ...]  # the reporting organisation first, then credited partners


class PublicRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def activities(
        self, plan_id: str, year: int, measure_code: str | None = None
    ) -> list[PublicActivity]:
        """Approved, non-duplicate activities dated in `year`, by measure, then date."""
        sql = (
            "SELECT a.id, a.measure_code, a.indicator_id, a.date, a.title, a.evidence_url, "
            "o.name "
            "FROM activities a JOIN organisations o ON o.id = a.organisation_id "
            "WHERE a.plan_id = ? AND a.status = 'approved' AND a.duplicate_of IS NULL "
            "AND a.date BETWEEN ? AND ?"
        )
        dates = (f"{year:04d}-01-01", f"{year:04d}-12-31")
        params: list[object] = [plan_id, *dates]
        if measure_code is not None:
            sql += " AND a.measure_code = ?"
            params.append(measure_code)
        sql += " ORDER BY a.measure_code, a.date, a.id"
        rows = await self.conn.fetch_all(sql, params)
        partners = await partners_of(self.conn, plan_id, dates)
        return [
            PublicActivity(
                id=row[0],
                measure_code=row[1],
                indicator_id=row[2],
                date=date.fromisoformat(row[3]),
                title=row[4],
                evidence_url=row[5],
                organisations=(row[6], *partners.get(row[0], ())),
            )
            for row in rows
        ]
