"""Event reminders and the after-event request to report: scheduled jobs that take event ids.

The database, not a job store, says what is due: `reminded_at` and `report_requested_at` record
what went out, so a restart neither repeats nor forgets. At start-up every upcoming reminder is
planned again from the events table.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db import Database
from db.events import EventRecord
from plan.clock import Clock

log = logging.getLogger(__name__)

REPORT_CHECK_JOB = "event-report-check"
REPORT_CHECK_EVERY = timedelta(hours=1)
# A reminder whose moment passed while the bot was down still goes out if the event is ahead.
MISFIRE_GRACE = 6 * 3600
SOON = timedelta(seconds=5)


def current_time() -> datetime:
    """Now, from the one place every time-dependent rule of events asks (tests replace it)."""
    return datetime.now(UTC)


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
    """What a job needs besides its ids, set once at start-up (a job never carries these)."""

    db: Database
    bot: Bot
    i18n: I18n
    timezone: ZoneInfo
    reminder_hours: int


_runtime: Runtime | None = None


def configure(runtime: Runtime | None) -> None:
    global _runtime
    _runtime = runtime


def local(moment: datetime, timezone: ZoneInfo) -> str:
    return moment.astimezone(timezone).strftime("%d.%m.%Y %H:%M")


# --- planning ---------------------------------------------------------------------------------


def forget_reminder(scheduler: JobPlanner, event_id: int) -> None:
    with contextlib.suppress(Exception):  # JobLookupError: nothing was planned
        scheduler.remove_job(reminder_job_id(event_id))


def plan_reminder(
    scheduler: JobPlanner, event: EventRecord, hours: int, now: datetime
) -> datetime | None:
    """Plan (or re-plan) an event's reminder; return when it will run, None if not due."""
    # Removed first: a scheduler not started yet would keep both of two jobs with one id.
    forget_reminder(scheduler, event.id)
    if event.status != "approved" or event.reminded_at is not None or event.starts_at <= now:
        return None
    run_at = max(event.starts_at - timedelta(hours=hours), now + SOON)
    scheduler.add_job(
        remind,
        "date",
        run_date=run_at,
        args=[event.id],
        id=reminder_job_id(event.id),
        replace_existing=True,
        misfire_grace_time=MISFIRE_GRACE,
    )
    return run_at


class ReminderPlanner:
    """Plans and forgets event reminders for the features that change events."""

    def __init__(self, scheduler: JobPlanner, hours: int, clock: Clock) -> None:
        self.scheduler = scheduler
        self.hours = hours
        self.clock = clock

    def plan(self, event: EventRecord) -> datetime | None:
        return plan_reminder(self.scheduler, event, self.hours, self.clock.now())

    def forget(self, event_id: int) -> None:
        forget_reminder(self.scheduler, event_id)


async def replan_all(db: Database, scheduler: JobPlanner, hours: int, now: datetime) -> int:
    """Plan the reminders of every upcoming event from the database; return how many."""
    async with db.read() as repo:
        events = await repo.events.to_remind(now)
    return sum(plan_reminder(scheduler, e, hours, now) is not None for e in events)


# --- the jobs ---------------------------------------------------------------------------------


async def remind(event_id: int) -> None:
    """Job: remind those coming to an event. Takes an id; everything else from the runtime."""
    runtime = _runtime
    if runtime is None:
        log.error("reminder for event %s: reminders are not configured", event_id)
        return
    try:
        await send_reminder(runtime, event_id, current_time())
    except Exception:
        log.exception("reminder for event %s failed", event_id)


async def send_reminder(runtime: Runtime, event_id: int, now: datetime) -> int:
    """Send the reminder once (claimed in the database first); return how many were told."""
    async with runtime.db.transaction() as repo:
        event = await repo.events.get(event_id)
        if event is None or event.status != "approved" or event.starts_at <= now:
            return 0
        if not await repo.events.mark_reminded(event_id, now):
            return 0  # went out already, e.g. before a restart
        people = await repo.events.attendees(event_id)

    def text() -> str:
        return _("⏰ Reminder: «{title}» starts {when}.\nWhere: {place}").format(
            title=escape(event.title),
            when=local(event.starts_at, runtime.timezone),
            place=escape(event.place),
        )

    return await tell(runtime, people, text)


async def check_reports() -> None:
    """Job: ask the organisers of events that are over to report them."""
    runtime = _runtime
    if runtime is None:
        return
    try:
        await ask_for_reports(runtime, current_time())
    except Exception:
        log.exception("asking for event reports failed")


async def ask_for_reports(runtime: Runtime, now: datetime) -> int:
    async with runtime.db.read() as repo:
        events = await repo.events.ended_unreported(now)
    asked = 0
    for event in events:
        async with runtime.db.transaction() as repo:
            if not await repo.events.mark_report_requested(event.id, now):
                continue
        assert event.proposed_by is not None

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

        asked += await tell(runtime, [event.proposed_by], text, markup)
    return asked


async def tell(
    runtime: Runtime,
    people: list[int],
    text: Any,
    markup: Any = None,
) -> int:
    """Send to each person in their language; a blocked bot or a gone chat is skipped."""
    told = 0
    for user_id in people:
        async with runtime.db.read() as repo:
            user = await repo.users.get(user_id)
        locale = runtime.i18n.default_locale
        if user is not None and user.language in runtime.i18n.available_locales:
            locale = user.language
        with runtime.i18n.context(), runtime.i18n.use_locale(locale):
            body, keyboard = text(), markup() if markup else None
        try:
            await runtime.bot.send_message(user_id, body, reply_markup=keyboard)
            told += 1
        except TelegramAPIError as e:
            log.warning("event message to %s not delivered: %s", user_id, e)
    return told


# --- start-up ---------------------------------------------------------------------------------


async def start_reminders(
    bot: Bot, db: Database, config: Any, scheduler: JobPlanner, i18n: I18n
) -> None:
    """Start-up hook: configure the jobs, re-plan reminders, check for events to report."""
    hours = int(getattr(config, "reminder_hours", 24))
    configure(Runtime(db, bot, i18n, config.timezone, hours))
    now = current_time()
    planned = await replan_all(db, scheduler, hours, now)
    log.info("planned %d event reminders", planned)
    scheduler.add_job(
        check_reports,
        "interval",
        seconds=int(REPORT_CHECK_EVERY.total_seconds()),
        id=REPORT_CHECK_JOB,
        replace_existing=True,
        next_run_time=now + SOON,
    )
