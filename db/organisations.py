"""Organisations that report activities: found by name (any letter case) or ЄДРПОУ code."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from db.sql import Connection
from db.users import Person


@dataclass(frozen=True, slots=True)
class OrganisationRecord:
    id: int
    name: str
    edrpou: str | None
    status: str
    contact: str | None
    created_at: str


_PROFILE = (
    "SELECT id, name, edrpou, status, contact, contact_person, areas, registered_by, created_at, "
    "(SELECT first_name FROM users WHERE users.id = registered_by), "
    "(SELECT username FROM users WHERE users.id = registered_by) "
    "FROM organisations"
)


@dataclass(frozen=True, slots=True)
class OrganisationProfile:
    """An organisation with what its registration said: for coordinators deciding on it."""

    id: int
    name: str
    edrpou: str | None
    status: str
    contact: str | None
    contact_person: str | None
    areas: tuple[str, ...]
    registered_by: int | None
    created_at: str
    registrant: Person | None = None  # who registered it, by name


class OrganisationRepo:
    def __init__(self, conn: Connection) -> None:
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
        new_id = await self.conn.insert(
            "INSERT INTO organisations (name, name_key, edrpou, status, contact, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (name.strip(), name_key(name), edrpou, status, contact, now),
        )
        await self.conn.execute(
            "INSERT INTO audit_log (at, actor, entity, entity_id, action, reason) "
            "VALUES (?, ?, 'organisation', ?, 'create', ?)",
            (now, actor, new_id, reason),
        )
        created = await self.get(new_id)
        assert created is not None
        return created

    async def register(
        self,
        name: str,
        *,
        edrpou: str,
        contact: str,
        contact_person: str,
        areas: list[str],
        registered_by: int,
    ) -> OrganisationRecord:
        """A new organisation from /register, pending until a coordinator verifies it."""
        now = _now()
        new_id = await self.conn.insert(
            "INSERT INTO organisations (name, name_key, edrpou, status, contact, contact_person, "
            "areas, registered_by, created_at) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
            (
                name.strip(),
                name_key(name),
                edrpou,
                contact,
                contact_person,
                json.dumps(areas),
                registered_by,
                now,
            ),
        )
        await _log(self.conn, registered_by, new_id, "register", None)
        created = await self.get(new_id)
        assert created is not None
        return created

    async def profile(self, organisation_id: int) -> OrganisationProfile | None:
        rows = await self._profiles("WHERE id = ?", organisation_id)
        return rows[0] if rows else None

    async def pending(self) -> list[OrganisationProfile]:
        """Organisations waiting for a coordinator, oldest first."""
        return await self._profiles("WHERE status = 'pending' ORDER BY created_at, id")

    async def search(self, text: str, limit: int = 6) -> list[OrganisationRecord]:
        """By exact ЄДРПОУ code, else by a part of the name (any letter case)."""
        key = text.strip()
        if key.isdigit():
            found = await self.by_edrpou(key)
            return [found] if found else []
        pattern = (
            "%" + name_key(key).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        async with self.conn.execute(
            "SELECT id, name, edrpou, status, contact, created_at FROM organisations "
            "WHERE name_key LIKE ? ESCAPE '\\' AND status != 'rejected' "
            "AND deactivated_at IS NULL ORDER BY name_key LIMIT ?",
            (pattern, limit),
        ) as cur:
            return [OrganisationRecord(*row) for row in await cur.fetchall()]

    async def decide(self, organisation_id: int, *, approve: bool, actor: int) -> bool:
        """Verify or reject a pending organisation; False when it was no longer pending."""
        async with self.conn.execute(
            "UPDATE organisations SET status = ? WHERE id = ? AND status = 'pending'",
            ("verified" if approve else "rejected", organisation_id),
        ) as cur:
            changed = cur.rowcount == 1
        if changed:
            await _log(self.conn, actor, organisation_id, "verify" if approve else "reject", None)
        return changed

    async def _profiles(self, where: str, *params: object) -> list[OrganisationProfile]:
        async with self.conn.execute(f"{_PROFILE} {where}", params) as cur:
            rows = await cur.fetchall()
        return [
            OrganisationProfile(
                id=r[0],
                name=r[1],
                edrpou=r[2],
                status=r[3],
                contact=r[4],
                contact_person=r[5],
                areas=tuple(json.loads(r[6] or "[]")),
                registered_by=r[7],
                created_at=r[8],
                registrant=Person(r[7], r[9], r[10]) if r[7] is not None else None,
            )
            for r in rows
        ]

    async def count(self) -> int:
        async with self.conn.execute("SELECT count(*) FROM organisations") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def _one(self, sql: str, *params: object) -> OrganisationRecord | None:
        async with self.conn.execute(sql, params) as cur:
            row = await cur.fetchone()
        return OrganisationRecord(*row) if row else None

    # --- verified organisations in coordinators' care -------------------------------------

    async def active(self) -> list[OrganisationProfile]:
        """Verified organisations not deactivated, by name."""
        return await self._profiles(
            "WHERE status = 'verified' AND deactivated_at IS NULL ORDER BY name_key"
        )

    async def is_deactivated(self, organisation_id: int) -> bool:
        rows = await self.conn.execute_fetchall(
            "SELECT 1 FROM organisations WHERE id = ? AND deactivated_at IS NOT NULL",
            (organisation_id,),
        )
        return bool(list(rows))

    async def edit(
        self,
        organisation_id: int,
        *,
        actor: int,
        name: str | None = None,
        contact: str | None = None,
    ) -> bool:
        """Change an active organisation's name or contact; the old value goes to the audit."""
        before = await self.get(organisation_id)
        if (
            before is None
            or before.status != "verified"
            or await self.is_deactivated(organisation_id)
        ):
            return False
        if name is not None:
            await self.conn.execute(
                "UPDATE organisations SET name = ?, name_key = ? WHERE id = ?",
                (name.strip(), name_key(name), organisation_id),
            )
            await _log(self.conn, actor, organisation_id, "rename", f"was: {before.name}")
        if contact is not None:
            await self.conn.execute(
                "UPDATE organisations SET contact = ? WHERE id = ?", (contact, organisation_id)
            )
            await _log(self.conn, actor, organisation_id, "contact", f"was: {before.contact}")
        return True

    async def deactivate(self, organisation_id: int, *, actor: int) -> bool:
        """Its members stop reporting for it; False when it was not an active one."""
        async with self.conn.execute(
            "UPDATE organisations SET deactivated_at = ? "
            "WHERE id = ? AND status = 'verified' AND deactivated_at IS NULL",
            (_now(), organisation_id),
        ) as cur:
            changed = cur.rowcount == 1
        if changed:
            await _log(self.conn, actor, organisation_id, "deactivate", None)
        return changed

    async def deactivated(self) -> list[OrganisationProfile]:
        """Verified organisations a coordinator deactivated, by name."""
        return await self._profiles(
            "WHERE status = 'verified' AND deactivated_at IS NOT NULL ORDER BY name_key"
        )

    async def reactivate(self, organisation_id: int, *, actor: int) -> bool:
        """Its members may report for it again; False when it was not a deactivated one."""
        async with self.conn.execute(
            "UPDATE organisations SET deactivated_at = NULL "
            "WHERE id = ? AND status = 'verified' AND deactivated_at IS NOT NULL",
            (organisation_id,),
        ) as cur:
            changed = cur.rowcount == 1
        if changed:
            await _log(self.conn, actor, organisation_id, "reactivate", None)
        return changed


def name_key(name: str) -> str:
    """What makes two names one organisation: letter case and extra spaces do not count."""
    return " ".join(name.split()).casefold()


async def _log(
    conn: Connection,
    actor: int | None,
    organisation_id: int,
    action: str,
    reason: str | None,
) -> None:
    await conn.execute(
        "INSERT INTO audit_log (at, actor, entity, entity_id, action, reason) "
        "VALUES (?, ?, 'organisation', ?, ?, ?)",
        (_now(), actor, organisation_id, action, reason),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
