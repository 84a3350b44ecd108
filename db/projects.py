"""Current projects of CSOs and the City Council, shown while they are active.

Their authors and coordinators may edit or remove them; each change is written to the audit
log (a removed project's title stays there).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from db.sql import Connection


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
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add(self, project: NewProject) -> int:
        return await self.conn.insert(
            "INSERT INTO projects (title, organisations, measures, description, link, "
            "active_until, added_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                project.title, project.organisations, json.dumps(list(project.measures)),
                project.description, project.link, project.active_until.isoformat(),
                project.added_by, datetime.now(UTC).isoformat(timespec="seconds"),
            ),
        )  # fmt: skip

    async def get(self, project_id: int) -> ProjectRecord | None:
        async with self.conn.execute(_SELECT + " WHERE id = ?", (project_id,)) as cur:
            row = await cur.fetchone()
        return _record(row) if row else None

    async def update(self, project_id: int, project: NewProject, actor: int) -> bool:
        """Replace what the project says (its author is kept); False when it no longer exists."""
        async with self.conn.execute(
            "UPDATE projects SET title = ?, organisations = ?, measures = ?, description = ?, "
            "link = ?, active_until = ? WHERE id = ?",
            (
                project.title, project.organisations, json.dumps(list(project.measures)),
                project.description, project.link, project.active_until.isoformat(), project_id,
            ),
        ) as cur:  # fmt: skip
            changed = cur.rowcount > 0
        if changed:
            await self._audit(actor, project_id, "edit", None)
        return changed

    async def remove(self, project_id: int, actor: int) -> bool:
        """Delete the project, keeping its title in the audit log; False when already gone."""
        removed = await self.conn.fetch_one(
            "DELETE FROM projects WHERE id = ? RETURNING title", (project_id,)
        )
        if removed is None:
            return False
        await self._audit(actor, project_id, "remove", str(removed[0]))
        return True

    async def _audit(self, actor: int, project_id: int, action: str, reason: str | None) -> None:
        await self.conn.execute(
            "INSERT INTO audit_log (at, actor, entity, entity_id, action, reason) "
            "VALUES (?, ?, 'project', ?, ?, ?)",
            (datetime.now(UTC).isoformat(timespec="seconds"), actor, project_id, action, reason),
        )

    async def active(
        self, today: date, *, added_before: datetime | None = None
    ) -> list[ProjectRecord]:
        """Projects running on `today`; with `added_before`, only those known by then."""
        added = (added_before or datetime.max.replace(tzinfo=UTC)).astimezone(UTC)
        async with self.conn.execute(
            _SELECT + " WHERE active_until >= ? AND created_at <= ? ORDER BY active_until, id",
            (today.isoformat(), added.isoformat(timespec="seconds")),
        ) as cur:
            rows = await cur.fetchall()
        return [_record(r) for r in rows]


_SELECT = (
    "SELECT id, title, organisations, measures, description, link, active_until, added_by "
    "FROM projects"
)


def _record(r: Any) -> ProjectRecord:
    return ProjectRecord(
        int(r[0]), r[1], r[2], tuple(json.loads(r[3])), r[4], r[5],
        date.fromisoformat(r[6]), int(r[7]),
    )  # fmt: skip
