"""The monthly newsletter's work: previews and sends for coordinators, and the scheduled jobs.

The newsletters table, not APScheduler's job store, remembers what happened: an issue per month,
its status, and the deliveries of the engine (delivery.py). `run_due` looks at it and does what
is due now, so the cron job, the hourly check and the start-up catch-up are one and the same
thing, and running it twice does nothing twice. That is why the jobs live in APScheduler's
in-memory store, bound at start-up to this process's bot: the database is the memory, and a
persistent store would remember less (it recomputes a missed monthly run from now and loses it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from apscheduler.triggers.cron import CronTrigger

from db import NewsletterRecord, Repositories
from db.coordinators import Coordinators
from formats.dates import event_time, month_label
from plan.clock import Clock
from scheduler.newsletter.board import Echo, ProgressBoard
from scheduler.newsletter.compose import month_of, next_month
from scheduler.newsletter.delivery import (
    DeliveryHandle,
    DeliveryOptions,
    DeliveryRunner,
    DeliverySummary,
    being_sent,
    send_newsletter,
)
from scheduler.newsletter.issue import Issues, Schedule
from scheduler.newsletter.keyboards import UNSUBSCRIBE_LABEL, issue_keyboard, unsubscribe_keyboard
from scheduler.notifier import Composed, ComposeSeries, Notifier

log = logging.getLogger(__name__)

SEND_JOB = "newsletter-send"
CHECK_JOB = "newsletter-check"
CHECK_EVERY = timedelta(hours=1)
SOON = timedelta(seconds=5)
TROUBLES_SHOWN = timedelta(days=7)  # undeliverable notifications counted on the preview

Notice = Callable[[], str]
"""A notice to coordinators, composed in each one's language."""


class JobPlanner(Protocol):
    def add_job(self, func: Any, trigger: Any = None, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class SendResult:
    status: str  # the issue's status when the run ended ("missing" if there is none)
    summary: DeliverySummary | None  # None when its status forbade sending


def status_line(record: NewsletterRecord, send_at: datetime | None) -> str:
    locale = get_i18n().current_locale
    when = event_time(send_at, locale) if send_at else "—"
    lines = {
        "draft": _("Draft of the {month} newsletter, not approved yet; it goes out on {when}."),
        "approved": _("The {month} newsletter is approved; it goes out on {when}."),
        "sending": _("The {month} newsletter is being sent."),
        "paused": _("The {month} newsletter is paused."),
        "cancelled": _("The {month} newsletter was cancelled."),
        "sent": _("The {month} newsletter was sent."),
    }
    return lines[record.status].format(month=month_label(record.month, locale), when=when)


class Newsletter:
    """The newsletter as the bot, its jobs and the CLI use it. Who hears about it is every
    coordinator (configured or added in the bot); the Bot is passed in, as to the notifier."""

    def __init__(
        self,
        issues: Issues,
        schedule: Schedule,
        options: DeliveryOptions,
        coordinators: Coordinators,
        notifier: Notifier,
        deliveries: DeliveryRunner | None = None,
    ) -> None:
        self.issues = issues
        self.schedule = schedule
        self.options = options
        self.coordinators = coordinators
        self.notifier = notifier
        self.deliveries = deliveries or DeliveryRunner()

    @property
    def clock(self) -> Clock:
        return self.issues.clock

    def send_at(self, month: str) -> datetime | None:
        return self.issues.send_at(self.schedule, month)

    def unsubscribe_markup(self) -> InlineKeyboardMarkup:
        # Issues are in Ukrainian, so their button is too.
        return unsubscribe_keyboard(self.issues.t(UNSUBSCRIBE_LABEL))

    # -- what coordinators see -----------------------------------------------------------------

    async def issue_for_now(self) -> NewsletterRecord:
        """The issue a coordinator's /newsletter shows: this month's, or the next one's once this
        month's went out; composed afresh while it can still change."""
        month = month_of(self.clock.now(), self.clock.timezone)
        async with self.issues.db.read() as repo:
            record = await repo.newsletters.by_month(month)
        if record is not None and record.status in ("sent", "cancelled"):
            month = next_month(month)
            async with self.issues.db.read() as repo:
                record = await repo.newsletters.by_month(month)
        if record is None or record.status in ("draft", "approved"):
            record = await self.issues.prepare(month)
        return record

    async def preview(
        self, bot: Bot, people: list[int], record: NewsletterRecord, notice: Notice
    ) -> list[int]:
        """The issue as subscribers will see it, then the notice with the coordinators' buttons."""
        async with self.issues.db.read() as repo:
            series = await self._preview_series(repo, record, notice)
        return await self.notifier.tell_series(bot, people, series)

    async def _preview_series(
        self, repo: Repositories, record: NewsletterRecord, notice: Notice
    ) -> ComposeSeries:
        send_at = self.send_at(record.month)
        waiting, failed = await repo.outbox.troubles(
            self.clock.now().astimezone(UTC) - TROUBLES_SHOWN
        )

        def series() -> list[Composed]:
            text = notice() + "\n" + status_line(record, send_at)
            if waiting or failed:
                # What the outbox could not deliver is visible to coordinators, here.
                text += "\n" + _(
                    "⚠ Notifications: {waiting} waiting for Telegram, {failed} undeliverable "
                    "in the last 7 days."
                ).format(waiting=waiting, failed=failed)
            return [*record.parts, (text, issue_keyboard(_, record.id, record.status))]

        return series

    async def test_send(self, bot: Bot, chat_id: int, record: NewsletterRecord) -> None:
        """The issue to one coordinator only, as subscribers get it but without its button."""

        def series() -> list[Composed]:
            return [*record.parts, _("🧪 That was the test: only you received it.")]

        await self.notifier.tell_series(bot, [chat_id], series)

    async def record_for_coordinators(
        self, repo: Repositories, record: NewsletterRecord, notice: Notice, *, preview: bool
    ) -> list[int]:
        """The notice (after the issue, if `preview`) to every coordinator, into the outbox in
        the caller's transaction; its ids, for `notifier.deliver` after the commit."""
        people = await self.coordinators.all()
        if preview:
            series = await self._preview_series(repo, record, notice)
            return await self.notifier.enqueue_series(repo, people, series, "newsletter")
        return await self.notifier.enqueue(repo, people, notice, "newsletter")

    async def every_coordinator(self) -> dict[int, int | None]:
        """A board's screens for every coordinator, none shown yet."""
        return dict.fromkeys(await self.coordinators.all())

    # -- sending -------------------------------------------------------------------------------

    def board(
        self,
        bot: Bot,
        record: NewsletterRecord,
        screens: dict[int, int | None],
        echo: Echo | None = None,
    ) -> ProgressBoard:
        return ProgressBoard(
            self.notifier, bot, record.id, record.month, screens,
            echo=echo, timezone=self.clock.timezone,
        )  # fmt: skip

    async def run_send(
        self,
        bot: Bot,
        newsletter_id: int,
        screens: dict[int, int | None],
        *,
        handle: DeliveryHandle | None = None,
        echo: Echo | None = None,
    ) -> SendResult:
        """Send (or resume) an issue with its progress board; record its activity once sent."""
        async with self.issues.db.read() as repo:
            record = await repo.newsletters.get(newsletter_id)
        if record is None:
            return SendResult("missing", None)
        board = self.board(bot, record, screens, echo)
        summary = await send_newsletter(
            self.issues.db,
            bot,
            newsletter_id,
            self.options,
            reply_markup=self.unsubscribe_markup(),
            on_progress=board,
            handle=handle or self.deliveries.handle,
            on_wait=board.waiting,
        )
        async with self.issues.db.read() as repo:
            status = await repo.newsletters.status(newsletter_id) or "missing"
        if status == "sent":
            await self.issues.record_activity(newsletter_id, self.clock.now())
        await board.finish(summary, status)
        return SendResult(status, summary)

    def spawn_send(
        self, bot: Bot, newsletter_id: int, screens: dict[int, int | None]
    ) -> asyncio.Task[object]:
        """Send in the background among this process's deliveries (shutdown stops it cleanly)."""
        return self.deliveries.spawn(self.run_send(bot, newsletter_id, screens))

    async def resume_interrupted(self, bot: Bot) -> list[str]:
        """Continue every issue a stopped process left in 'sending', each with its board."""
        async with self.issues.db.read() as repo:
            ids = await repo.newsletters.ids_with_status("sending")
        statuses = []
        for newsletter_id in ids:
            if self.deliveries.handle.stopping:
                break
            log.info("resuming newsletter %s left in 'sending'", newsletter_id)
            result = await self.run_send(bot, newsletter_id, await self.every_coordinator())
            statuses.append(result.status)
        return statuses

    # -- what is due ---------------------------------------------------------------------------

    async def run_due(self, bot: Bot) -> list[str]:
        """Do whatever is due now: drafts, the send (or the wait), missing activity records."""
        now = self.clock.now()
        done: list[str] = []
        if await self.issues.record_sent():
            done.append("recorded")
        done += await self.resume_orphans(bot)
        month = month_of(now, self.clock.timezone)
        at = self.send_at(month)
        if at is not None and now >= at:
            done.append(await self._send_due(bot, month))
        for upcoming in (month, next_month(month)):
            at = self.send_at(upcoming)
            if at is not None and at - timedelta(days=self.schedule.draft_days) <= now < at:
                done.append(await self._draft_due(bot, upcoming))
        return done

    async def resume_orphans(self, bot: Bot) -> list[str]:
        """An issue left 'sending' by a process that is gone (a CLI send that stopped to wait
        out an outage, say) is continued here, its waiting deliveries at their next try."""
        async with self.issues.db.read() as repo:
            ids = await repo.newsletters.ids_with_status("sending")
        resumed = []
        for newsletter_id in ids:
            if not await being_sent(self.issues.db, newsletter_id):
                self.spawn_send(bot, newsletter_id, await self.every_coordinator())
                resumed.append(f"{newsletter_id}: resumed")
        return resumed

    async def _draft_due(self, bot: Bot, month: str) -> str:
        async with self.issues.db.read() as repo:
            record = await repo.newsletters.by_month(month)
        if record is None:
            record = await self.issues.prepare(month)
        elif record.status != "draft":
            return f"{month}: {record.status}"
        async with self.issues.db.transaction() as repo:
            if not await repo.newsletters.mark_draft_told(record.id, self.clock.now()):
                return f"{month}: draft exists"
            ids = await self.record_for_coordinators(
                repo,
                record,
                lambda: _(
                    "📰 The draft of the {month} newsletter is ready. Check it and approve it."
                ).format(month=month_label(month, get_i18n().current_locale)),
                preview=True,
            )
        await self.notifier.deliver(bot, ids)
        return f"{month}: draft"

    async def _send_due(self, bot: Bot, month: str) -> str:
        async with self.issues.db.read() as repo:
            record = await repo.newsletters.by_month(month)
        if record is None:
            # The bot was down when the draft was due: compose it now.
            record = await self.issues.prepare(month)
        if record.status == "approved":
            self.spawn_send(bot, record.id, await self.every_coordinator())
            return f"{month}: sending"
        if record.status != "draft":
            return f"{month}: {record.status}"
        if self.schedule.unapproved == "send":
            record = await self.issues.prepare(month)  # the freshest content
            async with self.issues.db.transaction() as repo:
                await repo.newsletters.approve(record.id, None)
                told = await self.record_for_coordinators(
                    repo,
                    record,
                    lambda: _(
                        "The {month} newsletter was not approved by its send time; it goes out "
                        "as drafted (NEWSLETTER_UNAPPROVED=send)."
                    ).format(month=month_label(month, get_i18n().current_locale)),
                    preview=False,
                )
            await self.notifier.deliver(bot, told)
            self.spawn_send(bot, record.id, await self.every_coordinator())
            return f"{month}: sending unapproved"
        ids: list[int] = []
        async with self.issues.db.transaction() as repo:
            if await repo.newsletters.mark_waiting_told(record.id, self.clock.now()):
                ids = await self.record_for_coordinators(
                    repo,
                    record,
                    lambda: _(
                        "The {month} newsletter was not approved by its send time, so it waits "
                        "(NEWSLETTER_UNAPPROVED=wait). Approve it and it goes out at once."
                    ).format(month=month_label(month, get_i18n().current_locale)),
                    preview=True,
                )
        await self.notifier.deliver(bot, ids)
        return f"{month}: waiting"

    # -- start-up ------------------------------------------------------------------------------

    def start(self, bot: Bot, scheduler: JobPlanner) -> NewsletterJobs:
        """Start-up: continue an interrupted send; the monthly send at NEWSLETTER_CRON, an hourly
        check and, a few seconds from now, the catch-up of anything missed while down."""
        jobs = NewsletterJobs(self, bot)
        self.deliveries.spawn(self.resume_interrupted(bot))
        scheduler.add_job(
            jobs.tick,
            CronTrigger.from_crontab(self.schedule.cron, timezone=self.clock.timezone),
            id=SEND_JOB,
            replace_existing=True,
            misfire_grace_time=3600,
            coalesce=True,
        )
        # The hourly check prepares drafts and, first thing after start-up, catches up a send
        # missed while the bot was down (the job store does not remember what was sent).
        scheduler.add_job(
            jobs.tick,
            "interval",
            seconds=int(CHECK_EVERY.total_seconds()),
            id=CHECK_JOB,
            replace_existing=True,
            next_run_time=self.clock.now() + SOON,
            coalesce=True,
        )
        return jobs

    async def stop(self) -> None:
        await self.deliveries.shutdown()


class NewsletterJobs:
    """The newsletter's scheduled work, bound at start-up to the bot this process sends with.

    APScheduler's in-memory job store calls `tick`, which needs no ids: the database says what
    is due. Nothing here is module-level, so every dispatcher (and every test) has its own.
    """

    def __init__(self, newsletter: Newsletter, bot: Bot) -> None:
        self.newsletter = newsletter
        self.bot = bot
        self._lock = asyncio.Lock()  # the cron job and the hourly check may fire together

    async def tick(self) -> None:
        """Job: whatever is due now; a failure is logged and the next check tries again."""
        try:
            async with self._lock:
                await self.newsletter.run_due(self.bot)
        except Exception:
            log.exception("newsletter job failed; the next check tries again")
