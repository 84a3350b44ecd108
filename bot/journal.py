"""Updates are recorded before Telegram is told they arrived, and replayed if never finished.

Polling confirms an update (the next getUpdates offset) and the webhook answers 200 only after
record() has committed it; a process killed while handling replays the unfinished ones at
start-up; an update_id seen before (a re-sent webhook, a lost confirmation) is not handled again.
Handling one person's updates in order is the dispatcher's event isolation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update

from db import Database
from plan.clock import Clock

log = logging.getLogger(__name__)
KEEP_HANDLED = timedelta(days=2)  # Telegram keeps and re-sends an update for a day at most
# Several workers: an unfinished update this old lost its worker (handling takes seconds, and
# one person's lock in Redis expires after 60 s), and is replayed by another.
ORPHAN_AFTER = timedelta(minutes=2)


class UpdateJournal:
    def __init__(self, db: Database, dispatcher: Dispatcher, bot: Bot) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.bot = bot
        self.clock: Clock = dispatcher.workflow_data["clock"]
        self._in_hand: set[asyncio.Task[None]] = set()
        self._in_hand_ids: set[int] = set()
        # Handled and waiting to be marked done: whoever holds _marking marks them all.
        self._finished: set[int] = set()
        self._marking = asyncio.Lock()

    async def record(self, updates: Sequence[Update]) -> list[Update]:
        """Commit the updates to the journal; return those never seen before, in order."""
        if not updates:
            return []
        rows = [(u.update_id, u.model_dump_json(exclude_unset=True)) for u in updates]
        async with self.db.single_statement(quiet=True) as repo:
            fresh = set(await repo.received_updates.record(rows, self.clock.now()))
        return [u for u in updates if u.update_id in fresh]

    def handle_soon(self, update: Update) -> None:
        """Handle in the background (one person's updates still one at a time, in order)."""
        task = asyncio.create_task(self._handle(update))
        self._in_hand.add(task)
        self._in_hand_ids.add(update.update_id)
        task.add_done_callback(self._in_hand.discard)
        task.add_done_callback(lambda _: self._in_hand_ids.discard(update.update_id))

    async def replay(self, *, orphans_only: bool = False) -> int:
        """Hand every recorded and unfinished update to handle_soon(); return how many.

        `orphans_only` (several workers share the journal): only those unfinished for
        ORPHAN_AFTER, since the others may be in another worker's hands right now."""
        now = self.clock.now()
        async with self.db.transaction(quiet=True) as repo:
            await repo.received_updates.forget_handled(now - KEEP_HANDLED)
            if orphans_only:
                unfinished = await repo.received_updates.unfinished_before(now - ORPHAN_AFTER)
            else:
                unfinished = await repo.received_updates.unfinished()
        in_hand = self._in_hand_ids
        unfinished = [(i, payload) for i, payload in unfinished if i not in in_hand]
        for _, payload in unfinished:
            self.handle_soon(Update.model_validate_json(payload, context={"bot": self.bot}))
        if unfinished:
            log.info("replaying %d unfinished updates from before a stop", len(unfinished))
        return len(unfinished)

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109 - a bound on the whole wait
        """Let the updates in hand finish; those still running after `timeout` replay later."""
        if self._in_hand:
            await asyncio.wait(set(self._in_hand), timeout=timeout)
        for task in list(self._in_hand):
            task.cancel()

    async def _handle(self, update: Update) -> None:
        try:
            response: Any = await self.dispatcher.feed_update(self.bot, update)
            if isinstance(response, TelegramMethod):
                await self.bot(response)
        except asyncio.CancelledError:
            raise  # stopped mid-way: left unfinished, replayed at the next start
        except Exception:
            # Finished, badly: marked done all the same, or it would fail again at every start.
            log.exception("update %s failed", update.update_id)
        await self._mark_done(update.update_id)

    async def _mark_done(self, update_id: int) -> None:
        """Mark the update done, in one statement with every other finished meanwhile.

        Under load, updates finish while a marking statement waits for or holds the write
        lock; the next one marks them all (a group commit), so a busy bot pays one trip per
        group rather than per update. The update stays in hand until its mark is
        committed, so drain() waits for it; a crash before that replays it, as before."""
        self._finished.add(update_id)
        async with self._marking:
            if update_id not in self._finished:
                return  # marked with an earlier group
            group = sorted(self._finished)
            now = self.clock.now()
            async with self.db.single_statement(quiet=True) as repo:
                await repo.received_updates.done(group, now)
            self._finished.difference_update(group)
