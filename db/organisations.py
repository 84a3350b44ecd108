"""Organisations that report activities: found by name (any letter case) or ЄДРПОУ code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite


@dataclass(frozen=True, slots=True)
class OrganisationRecord:
    id: int
    name: str
    edrpou: str | None
    status: str
    contact: str | None
    created_at: str


class OrganisationRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def get(self, organisation_id: int) -> OrganisationRecord | None:
        return await self._one(
            "SELECT id, name, edrpou, status, contact, created_at FROM organisations WHERE id = ?",
            organisation_id,
        )

    async def by_name(self, name: str) -> OrganisationRecord | None:
        """The organisation with this name, whatever the letter case."""
        return await self._one(
            "SELECT id, name, edrpou, status, contact, created_at "
            "FROM organisations WHERE name_key = ?",
            name_key(name),
        )

    async def by_edrpou(self, code: str) -> OrganisationRecord | None:
        return await self._one(
            "SELECT id, name, edrpou, status, contact, created_at "
            "FROM organisations WHERE edrpou = ?",
            code.strip(),
        )

    async def find(self, name_or_code: str) -> OrganisationRecord | None:
        """By ЄДРПОУ code when it is eight digits, else by name."""
        key = name_or_code.strip()
        if len(key) == 8 and key.isdigit():
            found = await self.by_edrpou(key)
            if found is not None:
                return found
        return await self.by_name(key)

    async def create(
        self,
        name: str,
        *,
        edrpou: str | None = None,
        status: str = "pending",
        contact: str | None = None,
        actor: int | None = None,
        reason: str | None = None,
    ) -> OrganisationRecord:
        now = _now()
        async with self.conn.execute(
            "INSERT INTO organisations (name, name_key, edrpou, status, contact, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (name.strip(), name_key(name), edrpou, status, contact, now),
        ) as cur:
            new_id = cur.lastrowid
        assert new_id is not None
        await self.conn.execute(
            "INSERT INTO audit_log (at, actor, entity, entity_id, action, reason) "
            "VALUES (?, ?, 'organisation', ?, 'create', ?)",
            (now, actor, new_id, reason),
        )
        created = await self.get(new_id)
        assert created is not None
        return created

    async def count(self) -> int:
        async with self.conn.execute("SELECT count(*) FROM organisations") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def _one(self, sql: str, *params: object) -> OrganisationRecord | None:
        async with self.conn.execute(sql, params) as cur:
            row = await cur.fetchone()
        return OrganisationRecord(*row) if row else None


def name_key(name: str) -> str:
    """What makes two names one organisation: letter case and extra spaces do not count."""
    return " ".join(name.split()).casefold()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
