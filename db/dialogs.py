"""Dialog (FSM) state and data per storage key, so a half-finished dialog survives a restart."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from db.sql import Connection, padded

_STORED = "SELECT key, state, data FROM dialog_states WHERE key IN ("
# One key or two (a dialog's, and the one kept aside) in nearly every update: these shapes are
# whole statements here, so db.prepared prepares them at start-up (`padded` keeps others few).
_STORED_ONE = _STORED + "?)"
_STORED_TWO = _STORED + "?, ?)"


class DialogStateRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def get(self, key: str) -> tuple[str | None, dict[str, Any]]:
        rows = await self.conn.execute_fetchall(
            "SELECT state, data FROM dialog_states WHERE key = ?", (key,)
        )
        row = next(iter(rows), None)
        if row is None:
            return None, {}
        return row[0], json.loads(row[1])

    async def stored(self, keys: list[str]) -> dict[str, tuple[str | None, str]]:
        """State and data (the JSON text as stored) of each of these keys that has a row."""
        found: dict[str, tuple[str | None, str]] = {}
        for group in padded(keys):
            rows = await self.conn.execute_fetchall(
                _STORED + ", ".join("?" * len(group)) + ")", group
            )
            found.update((row[0], (row[1], row[2])) for row in rows)
        return found

    async def set_state(self, key: str, state: str | None) -> None:
        await self.conn.execute(
            "INSERT INTO dialog_states (key, state, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET state = excluded.state, "
            "updated_at = excluded.updated_at",
            (key, state, _now()),
        )
        await self._forget_if_empty(key)

    async def set_data(self, key: str, data: dict[str, Any]) -> None:
        await self.conn.execute(
            "INSERT INTO dialog_states (key, data, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at",
            (key, encode(data), _now()),
        )
        await self._forget_if_empty(key)

    async def save(self, key: str, state: str | None, data_json: str) -> None:
        """State and data (JSON text, see encode) in one statement; a finished dialog leaves no
        row behind."""
        if state is None and data_json == EMPTY:
            await self.conn.execute("DELETE FROM dialog_states WHERE key = ?", (key,))
            return
        await self.conn.execute(
            "INSERT INTO dialog_states (key, state, data, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET state = excluded.state, data = excluded.data, "
            "updated_at = excluded.updated_at",
            (key, state, data_json, _now()),
        )

    async def _forget_if_empty(self, key: str) -> None:
        # A finished dialog leaves no row behind.
        await self.conn.execute(
            "DELETE FROM dialog_states WHERE key = ? AND state IS NULL AND data = '{}'", (key,)
        )


EMPTY = "{}"


def encode(data: dict[str, Any]) -> str:
    """Dialog data as stored: JSON (so tuples come back as lists, keys as strings)."""
    return json.dumps(data, ensure_ascii=False)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
