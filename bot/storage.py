"""aiogram FSM storage kept in the database, so a dialog survives a restart of the bot."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    DEFAULT_DESTINY,
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)

from db import Database
from db.dialogs import EMPTY, encode

CACHED_KEYS = 20_000  # dialogs kept in memory; an evicted one is read back from the table


class DatabaseStorage(BaseStorage):
    """Dialog state and data in the table `dialog_states`, with a write-through cache in front.

    Every update asks for the state, so reading it from the table (a trip to the database
    thread each time) was the largest part of an update's cost. The cache keeps, per key, the
    state and the data exactly as stored (the JSON text, so a cached read gives what a read of
    the table would: lists for tuples, string keys).

    Why the cache cannot disagree with the table:
    - every change is written first and enters the cache only once its statement committed
      (one statement, committed by itself: `Database.single_statement`), so a handler goes on,
      and answers, only after its dialog's change is durable. If the process dies after the
      commit, the journal replays the unfinished update from the state it had reached; if it
      dies before, from the state before: the table is never behind an answer the user saw;
    - a failed write leaves the cache without the key, so the next read goes to the table;
    - this process is the only writer of its dialogs: without REDIS_URL one process polls (or
      serves the webhook of) the bot, and aiogram's event isolation hands one person's updates
      to it one at a time. With REDIS_URL several workers share dialogs and `RedisStorage` is
      used instead of this class.

    A key not in the cache is read together with the person's keys of every other destiny
    this storage has been asked for (the form engine keeps left drafts under one of their
    own), and a key with no row is kept as what its absence means (no state, no data): so a
    person's first update reads their dialogs in one trip and opening a form reads nothing.
    A copy read is kept only when no write of that key came first (`_save` keeps its own).
    """

    def __init__(
        self, db: Database, key_builder: KeyBuilder | None = None, size: int = CACHED_KEYS
    ) -> None:
        self.db = db
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)
        self._size = size
        self._cache: dict[str, tuple[str | None, str]] = {}
        self._destinies: set[str] = {DEFAULT_DESTINY}

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        built = self.key_builder.build(key)
        _, data = await self._load(key, built)
        await self._save(built, value, data)

    async def set_state_and_data(
        self, key: StorageKey, state: StateType, data: Mapping[str, Any]
    ) -> None:
        """Both in one statement (`handlers.dialog.enter`): one trip, and never half done."""
        value = state.state if isinstance(state, State) else state
        await self._save(self.key_builder.build(key), value, encode(dict(data)))

    async def get_state(self, key: StorageKey) -> str | None:
        state, _ = await self._load(key, self.key_builder.build(key))
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        built = self.key_builder.build(key)
        state, _ = await self._load(key, built)
        await self._save(built, state, encode(dict(data)))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, data = await self._load(key, self.key_builder.build(key))
        loaded: dict[str, Any] = json.loads(data)
        return loaded

    async def close(self) -> None:
        # The database belongs to the application, which closes it.
        return None

    async def _load(self, key: StorageKey, built: str) -> tuple[str | None, str]:
        cached = self._cache.get(built)
        if cached is not None:
            return cached
        self._destinies.add(key.destiny)
        wanted = {self.key_builder.build(replace(key, destiny=d)) for d in self._destinies}
        async with self.db.read() as repo:
            found = await repo.dialogs.stored(sorted(wanted))
        for sibling in wanted - {built}:
            if sibling not in self._cache:  # else a write of it came first and is newer
                self._remember(sibling, found.get(sibling, (None, EMPTY)))
        stored = found.get(built, (None, EMPTY))
        self._remember(built, stored)
        return stored

    async def _save(self, key: str, state: str | None, data: str) -> None:
        self._cache.pop(key, None)  # a write that fails leaves the table as the only truth
        async with self.db.single_statement() as repo:
            await repo.dialogs.save(key, state, data)
        self._remember(key, (state, data))

    def _remember(self, key: str, stored: tuple[str | None, str]) -> None:
        if len(self._cache) >= self._size:
            # The oldest entry goes (dicts keep insertion order); it is read back if needed.
            del self._cache[next(iter(self._cache))]
        self._cache[key] = stored
