"""A dialog's next step and its data, written together.

aiogram's `FSMContext` writes the state and the data apart. Where the storage can take both at
once (`bot.storage.DatabaseStorage`: one statement), a step costs one write instead of two, and a
crash between them can no longer leave the new step with the old step's data. Other storages
(Redis, memory) get the two writes aiogram makes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StateType, StorageKey


@runtime_checkable
class WritesAtOnce(Protocol):
    async def set_state_and_data(
        self, key: StorageKey, state: StateType, data: Mapping[str, Any]
    ) -> None: ...


async def enter(state: FSMContext, step: StateType, data: Mapping[str, Any]) -> None:
    """Move the dialog to `step` with `data` (the whole of it, as `set_data` takes it)."""
    storage = state.storage
    if isinstance(storage, WritesAtOnce):
        await storage.set_state_and_data(state.key, step, data)
    else:
        await state.set_state(step)
        await state.set_data(data)
