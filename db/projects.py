"""Current projects of CSOs and the City Council, shown while they are active."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import aiosqlite


@dataclass(frozen=True, slots=True)
class NewProject:
    title: str
    organisations: str
    measures: tuple[str, ...]
    description: str
    link: str | None
    active_until: date
    added_by: int


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    id: int
    title: str
    organisations: str
    measures: tuple[str, ...]
    description: str
    link: str | None
    active_until: date
    added_by: int


class ProjectRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def add(self, project: NewProject) -> int:
        async with self.conn.execute(
            "INSERT INTO projects (title, organisations, measures, description, link, "
            "active_until, added_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                project.title, project.organisations, json.dumps(list(project.measures)),
                project.description, project.link, project.active_until.isoformat(),
                project.added_by, datetime.now(UTC).isoformat(timespec="seconds"),
            ),
        ) as cur:  # fmt: skip
            project_id = cur.lastrowid
        assert project_id is not None
        return project_id

    async def active(
        self, today: date, *, added_before: datetime | None = None
    ) -> list[ProjectRecord]:
        """Projects running on `today`; with `added_before`, only those known by then."""
        added = (added_before or datetime.max.replace(tzinfo=UTC)).astimezone(UTC)
        async with self.conn.execute(
            "SELECT id, title, organisations, measures, description, link, active_until, "
            "added_by FROM projects WHERE active_until >= ? AND created_at <= ? "
            "ORDER BY active_until, id",
            (today.isoformat(), added.isoformat(timespec="seconds")),
        ) as cur:
            rows = await cur.fetchall()
        return [
            ProjectRecord(
                int(r[0]), r[1], r[2], tuple(json.loads(r[3])), r[4], r[5],
                date.fromisoformat(r[6]), int(r[7]),
            )
            for r in rows
        ]  # fmt: skip
