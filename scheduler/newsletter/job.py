"""The monthly newsletter job: the draft before send time, the send, and the catch-up at start-up.

The newsletters table, not APScheduler's job store, remembers what happened: an issue per month,
its status, and the deliveries of the engine (scheduler/delivery.py). `run_due` looks at it and
does what is due now, so the cron job, the hourly check and the start-up catch-up are one and
the same thing, and running it twice does nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from apscheduler.triggers.cron import CronTrigger

from db import Database, NewsletterRecord
from db.activities import NewActivity
from plan import Plan
from scheduler.newsletter.compose import (
    Translate,
    compose,
    gather,
    month_of,
    next_month,
    send_time,
)
from scheduler.newsletter.delivery import (
    DeliveryOptions,
    DeliveryRunner,
    DeliverySummary,
    send_newsletter,
)

log = logging.getLogger(__name__)

SEND_JOB = "newsletter-send"
CHECK_JOB = "newsletter-check"
CHECK_EVERY = timedelta(hours=1)
SOON = timedelta(seconds=5)
PROGRESS_EVERY = 2.0
INDICATOR_ID = "2.1.3-newsletters"
IRM_NAME = "КП «Інститут розвитку міст»"


def current_time() -> datetime:
    """Now, from the one place the newsletter's rules ask (tests replace it)."""
    return datetime.now(UTC)


class NewsletterCb(CallbackData, prefix="nl"):
    """A coordinator's button on an issue: test, intro, approve, pause, resume, cancel."""

    action: str
    id: int


UNSUBSCRIBE_LABEL = "Unsubscribe"


class UnsubscribeCb(CallbackData, prefix="unsub"):
    """Carries no user id: it always acts on whoever pressed it."""


def unsubscribe_keyboard(label: str) -> InlineKeyboardMarkup:
    """The button under the last part of every newsletter message."""
    builder = InlineKeyboardBuilder()
    builder.button(text=label, callback_data=UnsubscribeCb())
    return builder.as_markup()


class JobPlanner(Protocol):
    def add_job(self, func: Any, trigger: Any = None, **kwargs: Any) -> Any: ...


@dataclass
class Runtime:
    """What the job needs besides ids, set once at start-up (a job never carries these)."""

    db: Database
    bot: Bot
    plan: Plan
    i18n: I18n
    timezone: ZoneInfo
    cron: str
    draft_days: int
    unapproved: str  # "send" or "wait"
    coordinators: frozenset[int]
    deliveries: DeliveryRunner
    options: DeliveryOptions

    @classmethod
    def build(
        cls, bot: Bot, db: Database, config: Any, plan: Plan, i18n: I18n, deliveries: Any
    ) -> Runtime:
        return cls(
            db=db,
            bot=bot,
            plan=plan,
            i18n=i18n,
            timezone=config.timezone,
            cron=config.newsletter_cron,
            draft_days=int(config.newsletter_draft_days),
            unapproved=config.newsletter_unapproved,
            coordinators=frozenset(config.coordinator_ids),
            deliveries=deliveries,
            options=DeliveryOptions(
                rate=config.newsletter_rate, concurrency=config.newsletter_concurrency
            ),
        )

    def t(self, text: str) -> str:
        """Newsletters and coordinators' notices are in the default language (Ukrainian)."""
        return self.i18n.gettext(text, locale=self.i18n.default_locale)

    def send_at(self, month: str) -> datetime | None:
        return send_time(self.cron, self.timezone, month)


_runtime: Runtime | None = None
_tick_lock = asyncio.Lock()


def configure(runtime: Runtime | None) -> None:
    global _runtime
    _runtime = runtime


# -- the issue in the database -----------------------------------------------------------------


async def prepare_issue(
    rt: Runtime, month: str, now: datetime, *, intro: str | None = None
) -> NewsletterRecord:
    """The month's issue composed afresh (created as a draft if missing); a sent one is kept."""
    async with rt.db.read() as repo:
        existing = await repo.newsletters.by_month(month)
    if existing is not None and existing.status not in ("draft", "approved"):
        return existing
    text = existing.intro if intro is None and existing is not None else intro or ""
    content = await gather(rt.db, rt.plan, month, now, rt.timezone, text)
    parts = compose(content, rt.t)
    met = [(r.indicator_id, r.year) for r in content.results]
    async with rt.db.transaction() as repo:
        current = await repo.newsletters.by_month(month)
        if current is None:
            newsletter_id = await repo.newsletters.create(month, parts, now, intro=text)
        else:
            newsletter_id = current.id
            await repo.newsletters.update_draft(newsletter_id, parts, intro=text)
        await repo.newsletters.set_announced(newsletter_id, met)
        record = await repo.newsletters.get(newsletter_id)
    assert record is not None
    return record


async def record_issue_activity(
    db: Database,
    plan: Plan,
    newsletter_id: int,
    timezone: ZoneInfo,
    sent_at: datetime | None = None,
) -> int | None:
    """The 2.1.3 activity of a sent issue, recorded once; its id, None if not sent."""
    indicator = plan.indicator(INDICATOR_ID)
    if indicator is None:
        return None
    async with db.transaction() as repo:
        newsletter = await repo.newsletters.get(newsletter_id)
        if newsletter is None or newsletter.status != "sent":
            return None
        existing = await repo.newsletters.activity_of(newsletter_id)
        if existing is not None:
            return existing
        sent_on = sent_at or datetime.fromisoformat(
            newsletter.finished_at or newsletter.created_at
        )
        if sent_on.tzinfo is None:
            sent_on = sent_on.replace(tzinfo=UTC)
        day = sent_on.astimezone(timezone).date()
        if not plan.start <= day <= plan.end:
            # The loaded plan does not cover this month: its promise is not this plan's to count.
            return None
        organisation = await repo.organisations.by_name(IRM_NAME)
        if organisation is None:
            organisation = await repo.organisations.create(
                IRM_NAME, status="verified", reason="the newsletter's sender (measure 2.1.3)"
            )
        activity_id = await repo.activities.add_approved(
            NewActivity(
                plan_id=plan.id,
                indicator_id=INDICATOR_ID,
                measure_code=indicator.measure_code,
                organisation_id=organisation.id,
                date=day,
                quantity=1,
                title=f"Інформаційна розсилка за {newsletter.month}",
            ),
            reason=f"newsletter {newsletter.month} sent",
        )
        await repo.newsletters.set_activity(newsletter_id, activity_id)
    log.info("newsletter %s: 2.1.3 activity %s recorded", newsletter.month, activity_id)
    return activity_id


async def record_sent_issues(db: Database, plan: Plan, timezone: ZoneInfo) -> int:
    """Record the activity of every sent issue that lacks one (a send another process made)."""
    async with db.read() as repo:
        issues = await repo.newsletters.sent_without_activity()
    recorded = 0
    for issue in issues:
        recorded += await record_issue_activity(db, plan, issue.id, timezone) is not None
    return recorded


# -- what coordinators see ---------------------------------------------------------------------


def issue_keyboard(_: Translate, newsletter_id: int, status: str) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    buttons: list[tuple[str, str]] = []
    if status in ("draft", "approved"):
        buttons += [(_("🧪 Send me a test"), "test"), (_("✏ Edit introduction"), "intro")]
    if status == "draft":
        buttons.append((_("✅ Approve"), "approve"))
    if status == "sending":
        buttons.append((_("⏸ Pause"), "pause"))
    if status == "paused":
        buttons.append((_("▶ Resume"), "resume"))
    if status in ("sending", "paused"):
        buttons.append((_("✖ Cancel"), "cancel"))
    if not buttons:
        return None
    for text, action in buttons:
        builder.button(text=text, callback_data=NewsletterCb(action=action, id=newsletter_id))
    builder.adjust(1)
    return builder.as_markup()


def status_line(_: Translate, record: NewsletterRecord, send_at: datetime | None) -> str:
    when = send_at.strftime("%d.%m.%Y %H:%M") if send_at else "—"
    lines = {
        "draft": _("Draft of the {month} newsletter, not approved yet; it goes out on {when}."),
        "approved": _("The {month} newsletter is approved; it goes out on {when}."),
        "sending": _("The {month} newsletter is being sent."),
        "paused": _("The {month} newsletter is paused."),
        "cancelled": _("The {month} newsletter was cancelled."),
        "sent": _("The {month} newsletter was sent."),
    }
    return lines[record.status].format(month=record.month, when=when)


async def send_preview(rt: Runtime, chat_id: int, record: NewsletterRecord, notice: str) -> None:
    """The issue as subscribers will see it, then a notice with the coordinator's buttons."""
    for part in record.parts:
        await rt.bot.send_message(chat_id, part)
    text = notice + "\n" + status_line(rt.t, record, rt.send_at(record.month))
    await rt.bot.send_message(
        chat_id, text, reply_markup=issue_keyboard(rt.t, record.id, record.status)
    )


async def tell_coordinators(
    rt: Runtime, record: NewsletterRecord, notice: str, *, preview: bool
) -> None:
    for chat_id in sorted(rt.coordinators):
        try:
            if preview:
                await send_preview(rt, chat_id, record, notice)
            else:
                await rt.bot.send_message(chat_id, notice)
        except TelegramAPIError as e:
            log.warning("newsletter notice to coordinator %s not delivered: %s", chat_id, e)


class ProgressBoard:
    """One message per coordinator chat, edited as the send goes, with its control buttons."""

    def __init__(
        self, rt: Runtime, newsletter_id: int, month: str, chats: dict[int, int | None]
    ) -> None:
        self.rt = rt
        self.newsletter_id = newsletter_id
        self.month = month
        self.messages = dict(chats)  # chat id -> the message to edit (None: not sent yet)
        self._last = 0.0
        self._counts = (0, 0, 0)

    def _text(self) -> str:
        sent, failed, remaining = self._counts
        return self.rt.t(
            "Newsletter {month}: sent {sent}, failed {failed}, remaining {remaining}."
        ).format(month=self.month, sent=sent, failed=failed, remaining=remaining)

    async def __call__(self, sent: int, failed: int, remaining: int) -> None:
        self._counts = (sent, failed, remaining)
        if time.monotonic() - self._last < PROGRESS_EVERY and remaining:
            return
        self._last = time.monotonic()
        await self.show(self._text(), issue_keyboard(self.rt.t, self.newsletter_id, "sending"))

    async def finish(self, summary: DeliverySummary | None, status: str) -> None:
        _ = self.rt.t
        if summary is not None:
            self._counts = (summary.sent, summary.failed, summary.remaining)
        if summary is not None and summary.busy_with:
            line = _("Another process is sending it right now.")
        elif summary is not None and summary.error:
            line = _("⏸ Paused: Telegram refuses {error}.").format(error=summary.error)
        else:
            line = {
                "sent": _("✅ Done: the newsletter went out."),
                "paused": _("⏸ Paused. Resume or cancel it with the buttons."),
                "cancelled": _("✖ Cancelled: what was not sent will not be."),
            }.get(status, _("It cannot be sent: it is {status}.").format(status=status))
        await self.show(self._text() + "\n" + line, issue_keyboard(_, self.newsletter_id, status))

    async def show(self, text: str, markup: InlineKeyboardMarkup | None) -> None:
        for chat_id, message_id in list(self.messages.items()):
            try:
                if message_id is None:
                    message = await self.rt.bot.send_message(chat_id, text, reply_markup=markup)
                    self.messages[chat_id] = message.message_id
                    continue
                await self.rt.bot.edit_message_text(
                    text, chat_id=chat_id, message_id=message_id, reply_markup=markup
                )
            except TelegramBadRequest as e:
                if "message is not modified" not in e.message:
                    log.warning("newsletter progress in %s not shown: %s", chat_id, e.message)
            except TelegramAPIError as e:
                # A progress message that cannot be shown must never stop the newsletter.
                log.warning("newsletter progress in %s not shown: %s", chat_id, e)


async def run_send(rt: Runtime, newsletter_id: int, chats: dict[int, int | None]) -> str:
    """Send (or resume) an issue with a progress board; record its 2.1.3 activity once sent."""
    async with rt.db.read() as repo:
        record = await repo.newsletters.get(newsletter_id)
    if record is None:
        return "missing"
    board = ProgressBoard(rt, newsletter_id, record.month, chats)
    summary = await send_newsletter(
        rt.db,
        rt.bot,
        newsletter_id,
        rt.options,
        reply_markup=_unsubscribe_markup(rt),
        on_progress=board,
        handle=rt.deliveries.handle,
    )
    async with rt.db.read() as repo:
        status = await repo.newsletters.status(newsletter_id) or "missing"
    if status == "sent":
        await record_issue_activity(rt.db, rt.plan, newsletter_id, rt.timezone, current_time())
    await board.finish(summary, status)
    return status


def spawn_send(
    rt: Runtime, newsletter_id: int, chats: dict[int, int | None]
) -> asyncio.Task[object]:
    """Send in the background, among this process's deliveries (shutdown lets it stop cleanly)."""
    return rt.deliveries.spawn(run_send(rt, newsletter_id, chats))


def _unsubscribe_markup(rt: Runtime) -> InlineKeyboardMarkup:
    return unsubscribe_keyboard(rt.t(UNSUBSCRIBE_LABEL))


# -- what is due -------------------------------------------------------------------------------


async def run_due(rt: Runtime, now: datetime) -> list[str]:
    """Do whatever is due at `now`: drafts, the send (or the wait), missing 2.1.3 records."""
    done: list[str] = []
    if await record_sent_issues(rt.db, rt.plan, rt.timezone):
        done.append("recorded")
    month = month_of(now, rt.timezone)
    at = rt.send_at(month)
    if at is not None and now >= at:
        done.append(await _send_due(rt, month, now))
    for upcoming in (month, next_month(month)):
        at = rt.send_at(upcoming)
        if at is not None and at - timedelta(days=rt.draft_days) <= now < at:
            done.append(await _draft_due(rt, upcoming, now))
    return done


async def _draft_due(rt: Runtime, month: str, now: datetime) -> str:
    async with rt.db.read() as repo:
        if await repo.newsletters.by_month(month) is not None:
            return f"{month}: draft exists"
    record = await prepare_issue(rt, month, now)
    await tell_coordinators(
        rt,
        record,
        rt.t("📰 The draft of the {month} newsletter is ready. Check it and approve it.").format(
            month=month
        ),
        preview=True,
    )
    return f"{month}: draft"


async def _send_due(rt: Runtime, month: str, now: datetime) -> str:
    async with rt.db.read() as repo:
        record = await repo.newsletters.by_month(month)
    if record is None:
        # The bot was down when the draft was due: compose it now.
        record = await prepare_issue(rt, month, now)
    chats: dict[int, int | None] = dict.fromkeys(sorted(rt.coordinators))
    if record.status == "approved":
        spawn_send(rt, record.id, chats)
        return f"{month}: sending"
    if record.status != "draft":
        return f"{month}: {record.status}"
    if rt.unapproved == "send":
        record = await prepare_issue(rt, month, now)  # the freshest content
        async with rt.db.transaction() as repo:
            await repo.newsletters.approve(record.id, None)
        await tell_coordinators(
            rt,
            record,
            rt.t(
                "The {month} newsletter was not approved by its send time; it goes out as "
                "drafted (NEWSLETTER_UNAPPROVED=send)."
            ).format(month=month),
            preview=False,
        )
        spawn_send(rt, record.id, chats)
        return f"{month}: sending unapproved"
    async with rt.db.transaction() as repo:
        first = await repo.newsletters.mark_waiting_told(record.id, now)
    if first:
        await tell_coordinators(
            rt,
            record,
            rt.t(
                "The {month} newsletter was not approved by its send time, so it waits "
                "(NEWSLETTER_UNAPPROVED=wait). Approve it and it goes out at once."
            ).format(month=month),
            preview=True,
        )
    return f"{month}: waiting"


# -- the jobs and start-up ---------------------------------------------------------------------


async def newsletter_tick() -> None:
    """Job: whatever is due now. Takes nothing; everything from the runtime."""
    runtime = _runtime
    if runtime is None:
        log.error("newsletter job: the newsletter is not configured")
        return
    try:
        async with _tick_lock:  # the cron job and the hourly check may fire together
            await run_due(runtime, current_time())
    except Exception:
        log.exception("newsletter job failed; the next check tries again")


async def start_newsletter_schedule(
    bot: Bot,
    db: Database,
    config: Any,
    scheduler: JobPlanner,
    i18n: I18n,
    plan: Plan,
    deliveries: DeliveryRunner,
) -> None:
    """Start-up hook: the monthly send at NEWSLETTER_CRON, an hourly check, a catch-up soon."""
    configure(Runtime.build(bot, db, config, plan, i18n, deliveries))
    scheduler.add_job(
        newsletter_tick,
        CronTrigger.from_crontab(config.newsletter_cron, timezone=config.timezone),
        id=SEND_JOB,
        replace_existing=True,
        misfire_grace_time=3600,
        coalesce=True,
    )
    # The hourly check prepares drafts and, first thing after start-up, catches up a send
    # missed while the bot was down (the job store does not remember what was sent).
    scheduler.add_job(
        newsletter_tick,
        "interval",
        seconds=int(CHECK_EVERY.total_seconds()),
        id=CHECK_JOB,
        replace_existing=True,
        next_run_time=current_time() + SOON,
        coalesce=True,
    )
