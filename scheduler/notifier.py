"""Messaging a set of people: the one notifier every feature uses, over a durable outbox.

A message that follows from a change is rendered in its reader's language (the one they chose
in the bot, else the default) and recorded in the outbox within the transaction of the change
(`enqueue`); after the commit the caller asks for it to be sent (`deliver`), and the delivery
loop started with the bot sends whatever is left: after a crash, after an outage, after a 429.
Each message is marked sent in a short transaction of its own right after Telegram confirms
it, so it goes out once; a chat that blocked the bot is marked inactive and stops nobody else.
`tell` is enqueue + deliver in a transaction of its own, for messages that follow no change.
A message with buttons about something to decide names its subject; once decided, `retire`
takes the buttons away from every copy sent.
Besides, the notifier keeps a board (one message per person, edited in place as a send goes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from db import Database, Repositories
from db.outbox import NewMessage, OutboxMessage
from scheduler.liveness import dead_here, process_name
from scheduler.telegram_errors import TRANSIENT, chat_gone

log = logging.getLogger(__name__)
T = TypeVar("T")

Composed = str | tuple[str, InlineKeyboardMarkup | None]
Compose = Callable[[], Composed]
"""Builds one person's message (text, or text and buttons) inside their locale."""
ComposeSeries = Callable[[], Sequence[Composed]]
"""Builds one person's messages, sent in order, inside their locale."""

# After a 5xx, a timeout or an unreachable API: minutes, then hours (the last step repeats).
OUTBOX_BACKOFF: tuple[float, ...] = (30, 60, 120, 300, 900, 1800, 3600, 3 * 3600)
LEASE = timedelta(minutes=2)  # one send's hold on a message, longer than a request may take
IDLE = 30.0  # seconds the loop sleeps when nothing is due and nobody kicks it
BATCH = 100


def _split(composed: Composed) -> tuple[str, InlineKeyboardMarkup | None]:
    return composed if isinstance(composed, tuple) else (composed, None)


def _now() -> datetime:
    return datetime.now(UTC)


class _Sent(Enum):
    sent = "sent"
    failed = "failed"
    later = "later"  # still pending: its chat's later messages wait too
    skipped = "skipped"  # held by another sender, or behind an earlier message


class Notifier:
    def __init__(
        self, db: Database, i18n: I18n, *, backoff: Sequence[float] = OUTBOX_BACKOFF
    ) -> None:
        self.db = db
        self.i18n = i18n
        self.backoff = tuple(backoff)
        self.name = process_name()
        self._kicked = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._stopping = False

    async def locale_of(self, user_id: int, repo: Repositories | None = None) -> str:
        if repo is None:
            async with self.db.read() as reader:
                record = await reader.users.get(user_id)
        else:
            record = await repo.users.get(user_id)
        if record is not None and record.language in self.i18n.available_locales:
            return record.language
        return self.i18n.default_locale

    async def _in_locale_of(
        self, user_id: int, compose: Callable[[], T], repo: Repositories | None = None
    ) -> T:
        with self.i18n.context(), self.i18n.use_locale(await self.locale_of(user_id, repo)):
            return compose()

    # -- the outbox ----------------------------------------------------------------------------

    async def enqueue(
        self,
        repo: Repositories,
        people: Iterable[int],
        compose: Compose,
        kind: str = "",
        subject: str | None = None,
    ) -> list[int]:
        """Record each person's message in the caller's transaction; the outbox ids.

        `subject` names what a message with buttons is about (e.g. "report:12"): once it is
        decided, `retire` takes the buttons away from every copy that was sent.
        """
        ids = await self.enqueue_series(repo, people, lambda: [compose()], kind)
        if subject is not None:
            await repo.outbox.about(ids, subject)
        return ids

    async def retire(self, bot: Bot, subject: str, keep: tuple[int, int] | None = None) -> None:
        """Take the buttons away from the messages sent about a decided subject (but `keep`,
        the (chat, message) already dealt with). A message Telegram cannot edit is skipped."""
        async with self.db.read() as repo:
            sent = await repo.outbox.sent_about(subject)
        for chat_id, message_id in sent:
            if (chat_id, message_id) == keep:
                continue
            try:
                await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
            except TelegramAPIError as e:
                log.info("buttons of %s in chat %s stay: %s", message_id, chat_id, e.message)

    async def enqueue_series(
        self, repo: Repositories, people: Iterable[int], compose: ComposeSeries, kind: str = ""
    ) -> list[int]:
        """Record each person's messages, to be sent in order, in the caller's transaction."""
        messages = []
        for user_id in sorted(set(people)):
            for composed in await self._in_locale_of(user_id, compose, repo):
                text, markup = _split(composed)
                as_json = markup.model_dump_json(exclude_none=True) if markup else None
                messages.append(NewMessage(user_id, text, as_json))
        return await repo.outbox.add(messages, kind, _now())

    async def deliver(self, bot: Bot, ids: Sequence[int] | None = None) -> list[int]:
        """Send what is due (only `ids`, if given); return the chats that got every one of
        theirs. What cannot go now stays in the outbox for the delivery loop."""
        if ids is not None and not ids:
            return []
        done: dict[int, bool] = {}
        tried: set[int] = set()
        held: set[int] = set()  # chats with a message still waiting: their order is kept
        while True:
            async with self.db.read() as repo:
                batch = await repo.outbox.due(_now(), BATCH, ids)
            batch = [m for m in batch if m.id not in tried]
            if not batch:
                break
            for message in batch:
                tried.add(message.id)
                if self._stopping and ids is None:
                    return sorted(chat for chat, ok in done.items() if ok)
                if message.chat_id in held:
                    outcome = _Sent.skipped
                else:
                    outcome = await self._send_one(bot, message)
                if outcome is not _Sent.sent:
                    held.add(message.chat_id)
                done[message.chat_id] = done.get(message.chat_id, True) and (outcome is _Sent.sent)
        if held:
            self.kick()  # whatever waits is the loop's now
        return sorted(chat for chat, ok in done.items() if ok)

    async def _send_one(self, bot: Bot, message: OutboxMessage) -> _Sent:
        async with self.db.transaction() as repo:
            if await repo.outbox.earlier_pending(message.chat_id, message.id):
                return _Sent.skipped
            if not await repo.outbox.claim(message.id, _now(), LEASE, self.name):
                return _Sent.skipped
        markup = (
            InlineKeyboardMarkup.model_validate_json(message.markup) if message.markup else None
        )
        try:
            delivered = await bot.send_message(message.chat_id, message.text, reply_markup=markup)
        except TelegramRetryAfter as e:
            return await self._later(message, e.message, float(e.retry_after))
        except TelegramForbiddenError as e:
            return await self._failed(message, e.message, deactivate=True)
        except TelegramBadRequest as e:
            return await self._failed(message, e.message, deactivate=chat_gone(e))
        except (*TRANSIENT, TelegramUnauthorizedError) as e:
            error = getattr(e, "message", None) or str(e)
            step = self.backoff[min(message.attempts, len(self.backoff) - 1)]
            return await self._later(message, error, step)
        except TelegramAPIError as e:
            return await self._failed(message, e.message, deactivate=False)
        except BaseException:
            async with self.db.transaction() as repo:  # cancelled: the next sender takes it
                await repo.outbox.release(message.id)
            raise
        async with self.db.transaction() as repo:
            await repo.outbox.sent(message.id, _now())
            if markup is not None:  # buttons may have to be taken away once decided
                await repo.outbox.delivered_as(message.id, delivered.message_id)
        return _Sent.sent

    async def _later(self, message: OutboxMessage, error: str, seconds: float) -> _Sent:
        log.warning(
            "message %s (%s) to %s waits %.0f s: %s",
            message.id, message.kind, message.chat_id, seconds, error,
        )  # fmt: skip
        async with self.db.transaction() as repo:
            await repo.outbox.later(message.id, error, _now() + timedelta(seconds=seconds))
        return _Sent.later

    async def _failed(self, message: OutboxMessage, error: str, *, deactivate: bool) -> _Sent:
        log.warning(
            "message %s (%s) to %s not delivered: %s",
            message.id, message.kind, message.chat_id, error,
        )  # fmt: skip
        async with self.db.transaction() as repo:
            await repo.outbox.failed(message.id, error)
            if deactivate:
                await repo.subscribers.deactivate_chat(message.chat_id, error)
        return _Sent.failed

    # -- the delivery loop ---------------------------------------------------------------------

    def start(self, bot: Bot) -> None:
        """Start-up: send what a previous process left in the outbox, then whatever is due."""
        if self._loop is None or self._loop.done():
            self._loop = asyncio.create_task(self._run(bot))

    def kick(self) -> None:
        """Something was recorded or left waiting: the loop looks at once."""
        self._kicked.set()

    async def stop(self, grace: float = 5.0) -> None:
        """Let the loop finish the message in hand (a cancelled transaction would leave the
        database mid-way), then end it; what is left waits for the next start."""
        if self._loop is None:
            return
        self._stopping = True
        self.kick()
        _, pending = await asyncio.wait({self._loop}, timeout=grace)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loop = None
        self._stopping = False

    async def _run(self, bot: Bot) -> None:
        async with self.db.transaction() as repo:
            holders = await repo.outbox.holders(_now())
            for holder in holders:
                if dead_here(holder):  # killed mid-send: what it held goes out now
                    await repo.outbox.release_holder(holder)
        while not self._stopping:
            self._kicked.clear()
            wait = IDLE
            try:
                await self.deliver(bot)
                async with self.db.read() as repo:
                    due = await repo.outbox.next_attempt()
                if due is not None:
                    wait = min(max((due - _now()).total_seconds(), 1.0), IDLE)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the outbox could not be delivered; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kicked.wait(), wait)

    # -- replies that follow no change ---------------------------------------------------------

    async def tell(self, bot: Bot, people: Iterable[int], compose: Compose) -> list[int]:
        """Send each person (once, in a stable order) their message; return who got it now."""
        return await self.tell_series(bot, people, lambda: [compose()])

    async def tell_series(
        self, bot: Bot, people: Iterable[int], compose: ComposeSeries, kind: str = ""
    ) -> list[int]:
        """Send each person their messages in order; what cannot go now waits in the outbox."""
        async with self.db.transaction() as repo:
            ids = await self.enqueue_series(repo, people, compose, kind)
        return await self.deliver(bot, ids)

    async def show(
        self, bot: Bot, screens: MutableMapping[int, int | None], compose: Compose
    ) -> None:
        """Keep one message per person up to date: sent the first time (its id recorded in
        `screens`), edited after that. A message that cannot be shown is logged and skipped."""
        for user_id, message_id in list(screens.items()):
            text, markup = _split(await self._in_locale_of(user_id, compose))
            try:
                if message_id is None:
                    message = await bot.send_message(user_id, text, reply_markup=markup)
                    screens[user_id] = message.message_id
                else:
                    await bot.edit_message_text(
                        text, chat_id=user_id, message_id=message_id, reply_markup=markup
                    )
            except TelegramBadRequest as e:
                if "message is not modified" not in e.message:
                    log.warning("message to %s not shown: %s", user_id, e.message)
            except TelegramAPIError as e:
                log.warning("message to %s not shown: %s", user_id, e.message)
