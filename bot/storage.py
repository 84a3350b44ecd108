"""aiogram FSM storage kept in the database, so a dialog survives a restart of the bot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)

from db import Database


class DatabaseStorage(BaseStorage):
    def __init__(self, db: Database, key_builder: KeyBuilder | None = None) -> None:
        self.db = db
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self.db.transaction() as repo:
            await repo.dialogs.set_state(self.key_builder.build(key), value)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self.db.read() as repo:
            state, _ = await repo.dialogs.get(self.key_builder.build(key))
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self.db.transaction() as repo:
            await repo.dialogs.set_data(self.key_builder.build(key), dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self.db.read() as repo:
            _, data = await repo.dialogs.get(self.key_builder.build(key))
        return data

    async def close(self) -> None:
        # The database belongs to the application, which closes it.
        return None
