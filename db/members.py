"""Membership of users in organisations, and the coordinators added in the bot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from db.sql import Connection


@dataclass(frozen=True, slots=True)
class Membership:
    user_id: int
    organisation_id: int
    organisation_name: str
    status: str
    organisation_status: str
    organisation_active: bool = True  # False once a coordinator deactivated the organisation


@dataclass(frozen=True, slots=True)
class Standing:
    """What a user may do: coordinator added in the bot, and the organisation they report for."""

    coordinator: bool
    organisation_id: int | None


class MembershipRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def standing(self, user_id: int) -> Standing:
        async with self.conn.execute(
            "SELECT EXISTS (SELECT 1 FROM coordinators WHERE user_id = :u), "
            "(SELECT m.organisation_id FROM memberships m "
            " JOIN organisations o ON o.id = m.organisation_id "
            " WHERE m.user_id = :u AND m.status = 'approved' AND o.status = 'verified' "
            " AND o.deactivated_at IS NULL "
            " ORDER BY m.decided_at LIMIT 1)",
            {"u": user_id},
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        return Standing(coordinator=bool(row[0]), organisation_id=row[1])

    async def request(self, user_id: int, organisation_id: int, *, approved: bool = False) -> None:
        """Ask to join (or, for the registrant of a new organisation, join with it)."""
        await self.conn.execute(
            "INSERT INTO memberships (user_id, organisation_id, status, requested_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (user_id, organisation_id) DO UPDATE SET "
            "status = excluded.status, requested_at = excluded.requested_at, "
            "decided_by = NULL, decided_at = NULL",
            (user_id, organisation_id, "approved" if approved else "pending", _now()),
            person=user_id,
        )

    async def of_user(self, user_id: int) -> list[Membership]:
        return await self._select("WHERE m.user_id = ? ORDER BY m.requested_at", user_id)

    async def pending(self) -> list[Membership]:
        return await self._select(
            "WHERE m.status = 'pending' AND o.status = 'verified' AND o.deactivated_at IS NULL "
            "ORDER BY m.requested_at"
        )

    async def members_of(self, organisation_id: int) -> list[int]:
        async with self.conn.execute(
            "SELECT user_id FROM memberships WHERE organisation_id = ? AND status = 'approved'",
            (organisation_id,),
        ) as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    async def decide(
        self,
        user_id: int,
        organisation_id: int,
        *,
        approve: bool,
        actor: int,
        reason: str | None = None,
    ) -> bool:
        """Approve or reject a pending request; False when it was no longer pending."""
        now = _now()
        async with self.conn.execute(
            "UPDATE memberships SET status = ?, decided_by = ?, decided_at = ? "
            "WHERE user_id = ? AND organisation_id = ? AND status = 'pending'",
            ("approved" if approve else "rejected", actor, now, user_id, organisation_id),
            person=user_id,
        ) as cur:
            changed = cur.rowcount == 1
        if changed:
            await _audit(
                self.conn,
                actor,
                "membership",
                organisation_id,
                f"{'approve' if approve else 'reject'}:{user_id}",
                reason,
            )
        return changed

    async def reject_all_pending(self, organisation_id: int, *, actor: int) -> list[int]:
        """Reject every pending request to an organisation (it was rejected); who asked."""
        async with self.conn.execute(
            "UPDATE memberships SET status = 'rejected', decided_by = ?, decided_at = ? "
            "WHERE organisation_id = ? AND status = 'pending' RETURNING user_id",
            (actor, _now(), organisation_id),
        ) as cur:
            users = [int(r[0]) for r in await cur.fetchall()]
        for user_id in users:
            await _audit(
                self.conn, actor, "membership", organisation_id, f"reject:{user_id}", None
            )
        return users

    async def _select(self, where: str, *params: object) -> list[Membership]:
        async with self.conn.execute(
            "SELECT m.user_id, m.organisation_id, o.name, m.status, o.status, "
            "o.deactivated_at IS NULL "
            "FROM memberships m JOIN organisations o ON o.id = m.organisation_id " + where,
            params,
        ) as cur:
            return [
                Membership(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in await cur.fetchall()
            ]


class CoordinatorRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def all(self) -> list[int]:
        async with self.conn.execute("SELECT user_id FROM coordinators ORDER BY added_at") as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    async def add(self, user_id: int, *, actor: int) -> bool:
        async with self.conn.execute(
            "INSERT INTO coordinators (user_id, added_by, added_at) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id) DO NOTHING",
            (user_id, actor, _now()),
            person=user_id,
        ) as cur:
            added = cur.rowcount == 1
        if added:
            await _audit(self.conn, actor, "coordinator", user_id, "add", None)
        return added

    async def remove(self, user_id: int, *, actor: int) -> bool:
        async with self.conn.execute(
            "DELETE FROM coordinators WHERE user_id = ?", (user_id,), person=user_id
        ) as cur:
            removed = cur.rowcount == 1
        if removed:
            await _audit(self.conn, actor, "coordinator", user_id, "remove", None)
        return removed


async def _audit(
    conn: Connection,
    actor: int | None,
    entity: str,
    entity_id: int,
    action: str,
    reason: str | None,
) -> None:
    await conn.execute(
        "INSERT INTO audit_log (at, actor, entity, entity_id, action, reason) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (_now(), actor, entity, entity_id, action, reason),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
