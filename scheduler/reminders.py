"""Event reminders and the after-event request to report: scheduled jobs that take event ids.

The database, not a job store, says what is due: `reminded_at` and `report_requested_at` record
what went out, so a restart neither repeats nor forgets. At start-up every upcoming reminder is
planned again from the events table.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from html import escape
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db import Database
from db.events import EventRecord
from formats.dates import event_time, periods
from plan.clock import Clock
from plan.plans import Plans
from scheduler.notifier import Composed, Notifier

log = logging.getLogger(__name__)

REPORT_CHECK_JOB = "event-report-check"
REPORT_CHECK_EVERY = timedelta(hours=1)
# A reminder whose moment passed while the bot was down still goes out if the event is ahead.
MISFIRE_GRACE = 6 * 3600
SOON = timedelta(seconds=5)


def reminder_job_id(event_id: int) -> str:
    return f"event-reminder:{event_id}"


class ReportEventCb(CallbackData, prefix="evrep"):
    """The organiser's button under "please report your event"."""

    event_id: int


class JobPlanner(Protocol):
    """What of APScheduler's scheduler the reminders use (tests may pass a recorder)."""

    def add_job(self, func: Any, trigger: Any = None, **kwargs: Any) -> Any: ...
    def remove_job(self, job_id: str, jobstore: str | None = None) -> None: ...


@dataclass
class Runtime:
    """What the event jobs need besides ids, bound once at start-up (a job never carries it)."""

    db: Database
    bot: Bot
    i18n: I18n
    timezone: ZoneInfo
    reminder_hours: int
    notifier: Notifier | None = None  # the bot's, whose delivery loop retries what must wait
    plans: Plans | None = None  # the periods an event can be reported in (None: any)

    def messenger(self) -> Notifier:
        return self.notifier or Notifier(self.db, self.i18n)


def local(moment: datetime, timezone: ZoneInfo) -> str:
    """«пт, 24 травня, 10:00» in the city's time and the reader's language."""
    return event_time(moment.astimezone(timezone), get_i18n().current_locale)


# --- planning ---------------------------------------------------------------------------------


def forget_reminder(scheduler: JobPlanner, event_id: int) -> None:
    with contextlib.suppress(Exception):  # JobLookupError: nothing was planned
        scheduler.remove_job(reminder_job_id(event_id))


ReminderJob = Callable[[int], Awaitable[None]]


def plan_reminder(
    scheduler: JobPlanner,
    event: EventRecord,
    hours: int,
    now: datetime,
    job: ReminderJob,
) -> datetime | None:
    """Plan (or re-plan) an event's reminder; return when it will run, None if not due."""
    # Removed first: a scheduler not started yet would keep both of two jobs with one id.
    forget_reminder(scheduler, event.id)
    if event.status != "approved" or event.reminded_at is not None or event.starts_at <= now:
        return None
    run_at = max(event.starts_at - timedelta(hours=hours), now + SOON)
    scheduler.add_job(
        job,
        "date",
        run_date=run_at,
        args=[event.id],
        id=reminder_job_id(event.id),
        replace_existing=True,
        misfire_grace_time=MISFIRE_GRACE,
    )
    return run_at


class ReminderPlanner:
    """Plans and forgets event reminders for the features that change events, and at start-up
    binds the jobs to this process's bot and plans every upcoming reminder again.

    The jobs live in APScheduler's in-memory store, called with event ids: the database is the
    memory (`reminded_at`, `report_requested_at`), so a persistent store would add nothing but
    a second, staler record. Nothing is module-level: every dispatcher (and test) has its own.
    """

    def __init__(
        self, scheduler: JobPlanner, hours: int, clock: Clock, plans: Plans | None = None
    ) -> None:
        self.scheduler = scheduler
        self.hours = hours
        self.clock = clock
        self.plans = plans
        self.jobs: EventJobs | None = None  # bound at start-up

    def plan(self, event: EventRecord) -> datetime | None:
        return plan_reminder(self.scheduler, event, self.hours, self.clock.now(), self.remind)

    def forget(self, event_id: int) -> None:
        forget_reminder(self.scheduler, event_id)

    async def remind(self, event_id: int) -> None:
        """Job: remind those coming to an event (planned before start-up, run after it)."""
        if self.jobs is None:
            log.error("reminder for event %s: the reminders are not started", event_id)
            return
        await self.jobs.remind(event_id)

    async def replan(self, db: Database) -> int:
        """Plan every upcoming reminder again from the database; return how many are planned.
        The scheduler leader repeats it, so events changed in another process are planned."""
        now = self.clock.now()
        async with db.read() as repo:
            events = await repo.events.to_remind(now)
        return sum(
            plan_reminder(self.scheduler, e, self.hours, now, self.remind) is not None
            for e in events
        )

    async def start(
        self, bot: Bot, db: Database, i18n: I18n, notifier: Notifier | None = None
    ) -> EventJobs:
        """Start-up: bind the jobs, re-plan reminders, check soon for events to report."""
        runtime = Runtime(
            db, bot, i18n, self.clock.timezone, self.hours, notifier=notifier, plans=self.plans
        )
        self.jobs = EventJobs(runtime, self.clock)
        log.info("planned %d event reminders", await self.replan(db))
        now = self.clock.now()
        self.scheduler.add_job(
            self.jobs.check_reports,
            "interval",
            seconds=int(REPORT_CHECK_EVERY.total_seconds()),
            id=REPORT_CHECK_JOB,
            replace_existing=True,
            next_run_time=now + SOON,
        )
        return self.jobs


# --- the jobs ---------------------------------------------------------------------------------


class EventJobs:
    """The scheduled work of events, with the runtime it was bound to at start-up."""

    def __init__(self, runtime: Runtime, clock: Clock) -> None:
        self.runtime = runtime
        self.clock = clock

    async def remind(self, event_id: int) -> None:
        """Job: remind those coming to an event; a failure is logged, never raised."""
        try:
            await send_reminder(self.runtime, event_id, self.clock.now())
        except Exception:
            log.exception("reminder for event %s failed", event_id)

    async def check_reports(self) -> None:
        """Job: ask the organisers of events that are over to report them."""
        try:
            await ask_for_reports(self.runtime, self.clock.now())
        except Exception:
            log.exception("asking for event reports failed")


async def send_reminder(runtime: Runtime, event_id: int, now: datetime) -> int:
    """Send the reminder once (claimed in the database first); return how many were told."""
    notifier = runtime.messenger()
    async with runtime.db.transaction() as repo:
        event = await repo.events.get(event_id)
        if event is None or event.status != "approved" or event.starts_at <= now:
            return 0
        if not await repo.events.mark_reminded(event_id, now):
            return 0  # went out already, e.g. before a restart
        people = await repo.events.attendees(event_id)
        # Marked reminded and recorded in the outbox at once: a 429 or a crash delays it only.
        ids = await notifier.enqueue(repo, people, _reminder(event, runtime.timezone), "reminder")
    return len(await notifier.deliver(runtime.bot, ids))


def _reminder(event: EventRecord, timezone: ZoneInfo) -> Callable[[], str]:
    def text() -> str:
        return _("⏰ Reminder: «{title}» starts {when}.\nWhere: {place}").format(
            title=escape(event.title),
            when=local(event.starts_at, timezone),
            place=escape(event.place),
        )

    return text


async def ask_for_reports(runtime: Runtime, now: datetime) -> int:
    async with runtime.db.read() as repo:
        events = await repo.events.ended_unreported(now)
    asked = 0
    notifier = runtime.messenger()
    for event in events:
        assert event.proposed_by is not None
        day = event.starts_at.astimezone(runtime.timezone).date()
        if runtime.plans is not None and runtime.plans.covering(day) is None:
            # Its report would be refused: say why, once, instead of inviting it.
            async with runtime.db.transaction() as repo:
                if not await repo.events.mark_report_requested(event.id, now):
                    continue
                ids = await notifier.enqueue(
                    repo,
                    [event.proposed_by],
                    partial(_uncovered, event, runtime),
                    "report request",
                )
            await notifier.deliver(runtime.bot, ids)
            asked += 1  # recorded in the outbox: it goes out, now or after an outage
            continue

        def text(event: EventRecord = event) -> str:
            return _(
                "Your event «{title}» is over. Report it as an activity of the plan: the form "
                "is filled in from the event, you only check and send it."
            ).format(title=escape(event.title))

        def markup(event: EventRecord = event) -> InlineKeyboardMarkup:
            builder = InlineKeyboardBuilder()
            builder.button(
                text=_("📝 Report this event"), callback_data=ReportEventCb(event_id=event.id)
            )
            return builder.as_markup()

        def compose(event: EventRecord = event) -> Composed:
            return text(event), markup(event)

        async with runtime.db.transaction() as repo:
            if not await repo.events.mark_report_requested(event.id, now):
                continue
            ids = await notifier.enqueue(repo, [event.proposed_by], compose, "report request")
        await notifier.deliver(runtime.bot, ids)
        asked += 1  # recorded in the outbox: it goes out, now or after an outage
    return asked


def _uncovered(event: EventRecord, runtime: Runtime) -> str:
    assert runtime.plans is not None
    return _(
        "Your event «{title}» is over, but it falls outside the plan periods ({periods}), so it "
        "cannot be reported against the plan."
    ).format(
        title=escape(event.title),
        periods=periods(runtime.plans.spans(), get_i18n().current_locale),
    )
