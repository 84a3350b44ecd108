"""The newsletter delivery engine: every active subscriber gets each part once, within the limits.

A delivery row per chat is created once (INSERT OR IGNORE) when sending starts; after that the
database is the only memory. Each part is marked sent right after Telegram confirms it, before its
sender sends anything else, so a process killed at any moment resumes where it stopped: at worst
the few sends in flight at the kill are repeated. The marks are written by group commit
(_Ledger): the parts confirmed while one write runs go together in the next, one transaction for
all, rather than a transaction per message; each sender still waits for its own mark, so no more
sends are confirmed-but-unrecorded than before (at most `concurrency`).

Its pace is the bot's one budget: every send goes through the outgoing path (bot/outgoing.py)
at the newsletter's priority, behind replies and notifications, which honours 429s for every
sender (in every process, with Redis). A 429 that still reaches the engine (the path gave up
waiting) is waited out here and the same message goes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardMarkup

from db import ConfirmedPart, Database, PendingDelivery
from scheduler.liveness import alive, process_name
from scheduler.priority import Priority, sending_as
from scheduler.telegram_errors import TRANSIENT, chat_gone

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, int], Awaitable[None]]
"""Called with (sent, failed, remaining) deliveries, at most every progress_interval seconds."""
WaitCallback = Callable[[int, datetime], Awaitable[None]]
"""Called when Telegram is unreachable: (deliveries waiting, when the next try is)."""

# 400 answers about the message, not the chat: every chat would get the same.
CONTENT_ERRORS = ("can't parse entities", "message is too long", "text is empty", "button_data")
# A sender whose heartbeat is older than this is presumed dead, wherever it ran.
SENDER_STALE_AFTER = 60.0
HEARTBEAT_EVERY = 5.0
# Statuses from which `send` may (re)start a newsletter.
SENDABLE = ("approved", "sending", "paused")


@dataclass(frozen=True)
class DeliveryOptions:
    concurrency: int = 8  # sends in flight at once
    # Pending rows read at a time, with whether each chat is still subscribed: a chat that
    # unsubscribes after its row was read still gets this issue, if at most batch_size +
    # 2 × concurrency sends later (~3 s at 25/s).
    batch_size: int = 64
    per_chat_interval: float = 1.0  # seconds between two parts to one chat
    retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)  # after a 5xx or network error
    # Still failing after those: the delivery waits, longer after each outage it meets
    # (minutes, then hours; the last step repeats). It fails for good only for a permanent
    # reason (403, chat not found, a 400 about the message).
    outage_backoff: tuple[float, ...] = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600)
    # How long a run waits in-process for the next try; None: as long as it takes (the bot).
    # A run that would wait longer returns, the issue still 'sending' with its deliveries due.
    wait_at_most: float | None = None
    progress_interval: float = 2.0
    status_poll_interval: float = 0.5  # how often the database status is checked


@dataclass
class DeliverySummary:
    newsletter_id: int
    status: str  # the newsletter's status when the run ended
    sent: int  # deliveries complete (all parts), in total
    failed: int
    remaining: int  # still pending (paused, cancelled or interrupted)
    messages: int = 0  # messages Telegram confirmed during this run
    too_many_requests: int = 0  # 429 answers honoured during this run
    retries: int = 0  # 5xx / network errors retried during this run
    elapsed: float = 0.0
    error: str | None = None  # why the run paused itself, if it did
    busy_with: str | None = None  # another live process sending it: this run sent nothing
    waiting: int = 0  # pending deliveries waiting out an outage when the run ended
    next_try: datetime | None = None  # when the first of them is tried again

    @property
    def rate(self) -> float:
        """Confirmed messages per second during this run."""
        return self.messages / self.elapsed if self.elapsed > 0 else 0.0


class DeliveryHandle:
    """In-process control of a running delivery; the database status is the shared one."""

    def __init__(self) -> None:
        self.stop_reason: str | None = None
        self.stopped = asyncio.Event()  # set with the stop, for whoever waits meanwhile

    def stop(self, reason: str = "stopped") -> None:
        """Finish the sends in flight and return; pending deliveries stay pending."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self.stopped.set()

    @property
    def stopping(self) -> bool:
        return self.stop_reason is not None


class _Ledger:
    """The record of confirmed parts, written by group commit.

    A sender hands in its confirmed part and waits until it is committed. One write runs at a
    time; whatever is handed in meanwhile goes in the next write, all in one transaction. So
    with 8 senders a write carries up to 8 marks, and no sender is ever more than one confirmed
    send ahead of the database: a crash repeats what it would have without the grouping.
    """

    def __init__(self, db: Database, newsletter_id: int, total_parts: int) -> None:
        self.db = db
        self.newsletter_id = newsletter_id
        self.total_parts = total_parts
        self.writes = 0  # transactions, for the benchmark
        self._marks: list[ConfirmedPart] = []
        self._next: asyncio.Future[None] | None = None  # the write the marks above go in
        self._writer: asyncio.Task[None] | None = None

    async def record(self, mark: ConfirmedPart) -> None:
        """Return once `mark` is committed; raise what the write raised."""
        self._marks.append(mark)
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        committed = self._next
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        # Shielded: one sender cancelled must not cancel the others' write.
        await asyncio.shield(committed)

    async def _write(self) -> None:
        while self._marks:
            marks, self._marks = self._marks, []
            committed, self._next = self._next, None
            assert committed is not None
            try:
                # Quiet: delivery bookkeeping changes nothing the bot's caches keep.
                async with self.db.transaction(quiet=True) as repo:
                    await repo.newsletters.parts_sent(
                        self.newsletter_id, marks, self.total_parts, _now()
                    )
            except asyncio.CancelledError:
                committed.cancel()
                raise
            except BaseException as e:
                committed.set_exception(e)
            else:
                self.writes += 1
                committed.set_result(None)


class _Outcome(Enum):
    sent = "sent"
    failed = "failed"
    stopped = "stopped"
    waiting = "waiting"  # Telegram unreachable: tried again after a backoff


def _now() -> datetime:
    return datetime.now(UTC)


def _sender_alive(sender: str, seen: str, now: datetime) -> bool:
    """Whether the process recorded as sending a newsletter may still be doing so."""
    return alive(sender, seen, now, SENDER_STALE_AFTER)


async def start_newsletter(db: Database, newsletter_id: int) -> bool:
    """Create the deliveries and mark the newsletter 'sending', in one transaction.

    A newsletter already 'sending' gets no new rows twice (INSERT OR IGNORE); a 'paused' one is
    resumed. Returns False when the newsletter cannot be sent (draft, cancelled, sent, missing).
    """
    async with db.transaction() as repo:
        status = await repo.newsletters.status(newsletter_id)
        if status not in SENDABLE:
            return False
        if status == "sending":
            return True
        await repo.newsletters.start_sending(newsletter_id, _now())
    return True


async def being_sent(db: Database, newsletter_id: int) -> bool:
    """Whether a live process (this one or another) is sending the newsletter now."""
    async with db.read() as repo:
        holder = await repo.newsletters.sender(newsletter_id)
    return holder is not None and _sender_alive(*holder, _now())


async def pause_newsletter(db: Database, newsletter_id: int) -> bool:
    async with db.transaction() as repo:
        return await repo.newsletters.set_status(newsletter_id, "paused", only_from=("sending",))


async def cancel_newsletter(db: Database, newsletter_id: int) -> bool:
    async with db.transaction() as repo:
        return await repo.newsletters.set_status(
            newsletter_id, "cancelled", only_from=("draft", "approved", "sending", "paused")
        )


class NewsletterDelivery:
    """Sends one newsletter's pending deliveries; run() returns when none is left or on a stop."""

    def __init__(
        self,
        db: Database,
        bot: Bot,
        newsletter_id: int,
        options: DeliveryOptions | None = None,
        *,
        reply_markup: InlineKeyboardMarkup | None = None,
        on_progress: ProgressCallback | None = None,
        handle: DeliveryHandle | None = None,
        on_wait: WaitCallback | None = None,
    ) -> None:
        self.db = db
        self.bot = bot
        self.newsletter_id = newsletter_id
        self.options = options or DeliveryOptions()
        self.reply_markup = reply_markup
        self.on_progress = on_progress
        self.on_wait = on_wait
        self._wait_told = float("-inf")
        self.handle = handle or DeliveryHandle()
        self._hold_until = 0.0  # after an outage: no send before then (monotonic)
        self.parts: tuple[str, ...] = ()
        self._requests: tuple[SendMessage, ...] = ()  # each part's request, validated once
        self._ledger: _Ledger | None = None
        self.summary = DeliverySummary(newsletter_id, "", 0, 0, 0)
        # Who sends, so two processes (the bot and the CLI) never send one newsletter at once.
        self.sender = process_name()

    async def run(self) -> DeliverySummary:
        started = time.monotonic()
        async with self.db.read() as repo:
            newsletter = await repo.newsletters.get(self.newsletter_id)
            counts = await repo.newsletters.counts(self.newsletter_id)
        if newsletter is None:
            raise LookupError(f"no newsletter {self.newsletter_id}")
        self.parts = newsletter.parts
        self._ledger = _Ledger(self.db, self.newsletter_id, len(self.parts))
        last = len(self.parts) - 1
        self._requests = tuple(
            SendMessage(
                chat_id=0,  # each send copies it with its chat: no validation per message
                text=text,
                parse_mode="HTML",
                reply_markup=self.reply_markup if n == last else None,
            )
            for n, text in enumerate(self.parts)
        )
        s = self.summary
        s.sent, s.failed, s.remaining = counts["sent"], counts["failed"], counts["pending"]
        s.status = newsletter.status
        if newsletter.status != "sending" or not self.parts:
            if not self.parts:
                log.warning("newsletter %s has no parts: nothing to send", self.newsletter_id)
            return s
        busy = await self._claim()
        if busy is not None:
            log.warning("newsletter %s is being sent by %s: not sending", self.newsletter_id, busy)
            s.busy_with = busy
            return s
        try:
            # Its sends wait behind replies and notifications on the one outgoing path.
            with sending_as(Priority.newsletter):
                return await self._send_all(newsletter.month, started)
        finally:
            async with self.db.transaction() as repo:
                await repo.newsletters.release_sender(self.newsletter_id, self.sender)

    async def _claim(self) -> str | None:
        """Record this run as the sender; the live sender's name if another one is sending."""
        now = _now()
        async with self.db.transaction() as repo:
            holder = await repo.newsletters.sender(self.newsletter_id)
            if holder is not None and _sender_alive(*holder, now):
                return holder[0]
            await repo.newsletters.set_sender(self.newsletter_id, self.sender, now)
        return None

    async def _send_all(self, month: str, started: float) -> DeliverySummary:
        s = self.summary
        log.info(
            "newsletter %s (%s): %d deliveries to go",
            self.newsletter_id,
            month,
            s.remaining,
        )
        queue: asyncio.Queue[PendingDelivery | None] = asyncio.Queue(
            maxsize=2 * self.options.concurrency
        )
        watchers = [
            asyncio.create_task(self._watch_status()),
            asyncio.create_task(self._report_progress()),
        ]
        try:
            while True:
                async with asyncio.TaskGroup() as group:
                    group.create_task(self._produce(queue))
                    for _ in range(self.options.concurrency):
                        group.create_task(self._work(queue))
                if not await self._wait_for_next_try():
                    break
        finally:
            for task in watchers:
                task.cancel()
            for task in watchers:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        async with self.db.transaction() as repo:
            await repo.newsletters.finish_if_done(self.newsletter_id, _now())
            s.status = await repo.newsletters.status(self.newsletter_id) or "missing"
            s.waiting, s.next_try = await repo.newsletters.waiting(self.newsletter_id, _now())
        s.elapsed = time.monotonic() - started
        await self._progress()
        log.info(
            "newsletter %s %s: sent %d, failed %d, remaining %d; %d messages in %.1f s "
            "(%.1f/s), %d × 429, %d retries; %d waiting",
            self.newsletter_id,
            s.status,
            s.sent,
            s.failed,
            s.remaining,
            s.messages,
            s.elapsed,
            s.rate,
            s.too_many_requests,
            s.retries,
            s.waiting,
        )
        return s

    async def _announce_wait(self) -> None:
        async with self.db.read() as repo:
            waiting, next_try = await repo.newsletters.waiting(self.newsletter_id, _now())
        if not waiting or next_try is None:
            return
        log.warning(
            "newsletter %s: Telegram is unreachable, %d waiting, next try at %s",
            self.newsletter_id, waiting, next_try.isoformat(timespec="seconds"),
        )  # fmt: skip
        if self.on_wait is not None:
            try:
                await self.on_wait(waiting, next_try)
            except Exception:
                log.exception("progress report for newsletter %s failed", self.newsletter_id)

    async def _wait_for_next_try(self) -> bool:
        """After a pass: wait for deliveries kept back by an outage; False when the run ends."""
        if self.handle.stopping:
            return False
        async with self.db.read() as repo:
            pending = (await repo.newsletters.counts(self.newsletter_id))["pending"]
            waiting, next_try = await repo.newsletters.waiting(self.newsletter_id, _now())
        if not pending:
            return False
        if not waiting or next_try is None:
            return True  # their next try came during the pass: another pass, now
        s = self.summary
        s.waiting, s.next_try = waiting, next_try
        pause = (next_try - _now()).total_seconds()
        if self.options.wait_at_most is not None and pause > self.options.wait_at_most:
            return False
        await self._announce_wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.handle.stopped.wait(), max(pause, 0.0))
        return not self.handle.stopping

    # -- the pipeline --------------------------------------------------------------------------

    async def _produce(self, queue: asyncio.Queue[PendingDelivery | None]) -> None:
        """Stream pending rows in batches, so memory does not grow with the subscribers."""
        after: int | None = None
        try:
            while not self.handle.stopping:
                async with self.db.read() as repo:
                    batch = await repo.newsletters.pending_batch(
                        self.newsletter_id, after, self.options.batch_size, due_at=_now()
                    )
                if not batch:
                    break
                for item in batch:
                    if self.handle.stopping:
                        break
                    await queue.put(item)
                after = batch[-1].chat_id
        finally:
            for _ in range(self.options.concurrency):
                await queue.put(None)

    async def _work(self, queue: asyncio.Queue[PendingDelivery | None]) -> None:
        while (item := await queue.get()) is not None:
            if not self.handle.stopping:  # after a stop, drain the queue without sending
                await self._deliver(item)

    async def _deliver(self, item: PendingDelivery) -> None:
        chat_id = item.chat_id
        if not item.active:
            # Unsubscribed (or refused by Telegram) since the deliveries were created.
            await self._fail(chat_id, "unsubscribed", item.attempts, deactivate=False)
            return
        attempts = item.attempts
        last_confirmed: float | None = None
        for part in range(item.parts_sent, len(self.parts)):
            if self.handle.stopping:
                return
            if last_confirmed is not None:
                # Telegram allows about one message per second to one chat.
                wait = last_confirmed + self.options.per_chat_interval - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            outcome, attempts = await self._send_part(chat_id, part, attempts, item.waits)
            if outcome is not _Outcome.sent:
                return
            last_confirmed = time.monotonic()

    async def _send_part(
        self, chat_id: int, part: int, attempts: int, item_waits: int
    ) -> tuple[_Outcome, int]:
        last = part == len(self.parts) - 1
        failures = 0
        while True:
            await self._wait_out_hold()
            if self.handle.stopping:
                return _Outcome.stopped, attempts
            attempts += 1
            try:
                await self.bot(self._requests[part].model_copy(update={"chat_id": chat_id}))
            except TelegramRetryAfter as e:
                # Flood control the outgoing path did not absorb: wait, then this very message
                # goes again.
                self.summary.too_many_requests += 1
                log.info("429 from Telegram: the newsletter waits %s s", e.retry_after)
                self._hold(e.retry_after)
                continue
            except TelegramForbiddenError as e:
                await self._fail(chat_id, e.message, attempts, deactivate=True)
                return _Outcome.failed, attempts
            except TelegramBadRequest as e:
                if any(problem in e.message.lower() for problem in CONTENT_ERRORS):
                    await self._refuse_content(part, e.message)
                    return _Outcome.stopped, attempts
                gone = chat_gone(e)
                await self._fail(chat_id, e.message, attempts, deactivate=gone)
                return _Outcome.failed, attempts
            except TelegramUnauthorizedError:
                raise  # a wrong token fails every chat alike: stop and keep them pending
            except TRANSIENT as e:
                error = getattr(e, "message", None) or str(e)
                if failures >= len(self.options.retry_delays):
                    await self._wait(chat_id, error, attempts, item_waits)
                    return _Outcome.waiting, attempts
                self.summary.retries += 1
                await asyncio.sleep(self.options.retry_delays[failures])
                failures += 1
                continue
            except TelegramAPIError as e:
                await self._fail(chat_id, e.message, attempts, deactivate=False)
                return _Outcome.failed, attempts
            assert self._ledger is not None
            await self._ledger.record(ConfirmedPart(chat_id, part + 1, attempts))
            self.summary.messages += 1
            if last:
                self.summary.sent += 1
                self.summary.remaining -= 1
            return _Outcome.sent, attempts

    def _hold(self, seconds: float) -> None:
        """No send of this newsletter for `seconds` from now."""
        self._hold_until = max(self._hold_until, time.monotonic() + seconds)

    async def _wait_out_hold(self) -> None:
        # A hold only ever grows (and a stop ends the wait), so sleeping to its end suffices.
        while (left := self._hold_until - time.monotonic()) > 0 and not self.handle.stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.handle.stopped.wait(), left)

    async def _refuse_content(self, part: int, error: str) -> None:
        """The message itself is wrong, for everyone: pause rather than fail every chat."""
        self.summary.error = f"part {part + 1}: {error}"
        if self.handle.stopping:
            return
        self.handle.stop("content")
        log.error(
            "newsletter %s paused: Telegram refuses part %d (%s)",
            self.newsletter_id,
            part + 1,
            error,
        )
        await pause_newsletter(self.db, self.newsletter_id)

    async def _wait(self, chat_id: int, error: str, attempts: int, waits: int) -> None:
        """Keep the delivery pending until its next try: the outage is not the chat's fault."""
        backoff = self.options.outage_backoff
        step = backoff[min(waits, len(backoff) - 1)]
        async with self.db.transaction() as repo:
            await repo.newsletters.delivery_waits(
                self.newsletter_id, chat_id, error, attempts, _now() + timedelta(seconds=step)
            )
        log.info(
            "newsletter %s to chat %s waits %.0f s: %s", self.newsletter_id, chat_id, step, error
        )
        # Telegram is down for everyone: nobody tries again before this step is over, and
        # coordinators hear why the send waits.
        self._hold(step)
        if time.monotonic() - self._wait_told >= self.options.progress_interval:
            self._wait_told = time.monotonic()
            await self._announce_wait()

    async def _fail(self, chat_id: int, error: str, attempts: int, *, deactivate: bool) -> None:
        async with self.db.transaction() as repo:
            await repo.newsletters.delivery_failed(self.newsletter_id, chat_id, error, attempts)
            if deactivate:
                await repo.subscribers.deactivate_chat(chat_id, error)
        log.info("newsletter %s to chat %s failed: %s", self.newsletter_id, chat_id, error)
        self.summary.failed += 1
        self.summary.remaining -= 1

    # -- watchers ------------------------------------------------------------------------------

    async def _watch_status(self) -> None:
        """Pause and cancel arrive through the database, from this process or another."""
        last_beat = time.monotonic()
        while not self.handle.stopping:
            await asyncio.sleep(self.options.status_poll_interval)
            async with self.db.read() as repo:
                status = await repo.newsletters.status(self.newsletter_id)
            if time.monotonic() - last_beat >= HEARTBEAT_EVERY:
                last_beat = time.monotonic()
                async with self.db.transaction() as repo:
                    await repo.newsletters.set_sender(self.newsletter_id, self.sender, _now())
            if status != "sending":
                log.info("newsletter %s is now %s: stopping", self.newsletter_id, status)
                self.handle.stop(status or "missing")

    async def _report_progress(self) -> None:
        while True:
            await asyncio.sleep(self.options.progress_interval)
            await self._progress()

    async def _progress(self) -> None:
        if self.on_progress is None:
            return
        s = self.summary
        try:
            await self.on_progress(s.sent, s.failed, max(s.remaining, 0))
        except Exception:
            # A progress message that cannot be edited must never stop the newsletter.
            log.exception("progress report for newsletter %s failed", self.newsletter_id)


async def send_newsletter(
    db: Database,
    bot: Bot,
    newsletter_id: int,
    options: DeliveryOptions | None = None,
    *,
    reply_markup: InlineKeyboardMarkup | None = None,
    on_progress: ProgressCallback | None = None,
    handle: DeliveryHandle | None = None,
    on_wait: WaitCallback | None = None,
) -> DeliverySummary | None:
    """Start (or resume) a newsletter and send it; None if its status forbids sending."""
    if not await start_newsletter(db, newsletter_id):
        return None
    delivery = NewsletterDelivery(
        db, bot, newsletter_id, options, reply_markup=reply_markup,
        on_progress=on_progress, handle=handle, on_wait=on_wait,
    )  # fmt: skip
    return await delivery.run()


async def resume_interrupted(
    db: Database,
    bot: Bot,
    options: DeliveryOptions | None = None,
    *,
    reply_markup: InlineKeyboardMarkup | None = None,
    handle: DeliveryHandle | None = None,
    progress_for: Callable[[int], Awaitable[ProgressCallback | None]] | None = None,
) -> list[DeliverySummary]:
    """At start-up: continue every newsletter a previous process left in 'sending'."""
    async with db.read() as repo:
        ids = await repo.newsletters.ids_with_status("sending")
    summaries = []
    for newsletter_id in ids:
        if handle is not None and handle.stopping:
            break
        log.info("resuming newsletter %s left in 'sending'", newsletter_id)
        on_progress = await progress_for(newsletter_id) if progress_for else None
        delivery = NewsletterDelivery(
            db, bot, newsletter_id, options, reply_markup=reply_markup,
            on_progress=on_progress, handle=handle,
        )  # fmt: skip
        summaries.append(await delivery.run())
    return summaries


@dataclass
class DeliveryRunner:
    """The deliveries running in this process, so shutdown can let them stop cleanly."""

    tasks: set[asyncio.Task[object]] = field(default_factory=set)
    handle: DeliveryHandle = field(default_factory=DeliveryHandle)

    def spawn(self, work: Awaitable[object]) -> asyncio.Task[object]:
        async def wrapped() -> object:
            try:
                return await work
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("newsletter delivery failed; it resumes at the next start")
                return None

        task: asyncio.Task[object] = asyncio.create_task(wrapped())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def shutdown(self, grace: float = 10.0) -> None:
        """Let the sends in flight finish (so nothing is sent twice), then cancel the rest."""
        self.handle.stop("shutdown")
        if not self.tasks:
            return
        _, pending = await asyncio.wait(set(self.tasks), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
