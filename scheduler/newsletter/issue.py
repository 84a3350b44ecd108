"""A month's issue in the database: composed and stored one way, and its 2.1.3 activity."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from aiogram.utils.i18n import I18n

from db import Database, NewsletterRecord
from db.activities import NewActivity
from plan import Plan
from plan.clock import Clock
from plan.plans import Plans
from scheduler.newsletter.compose import compose, gather, send_time

log = logging.getLogger(__name__)

# The organisation the 2.1.3 activity is recorded for: the newsletter's sender.
IRM_NAME = "КП «Інститут розвитку міст»"


@dataclass(frozen=True)
class Schedule:
    """When issues go out (NEWSLETTER_CRON, in the city's time zone), how long before that
    coordinators get the draft, and what an issue not approved by then does ("wait" or "send")."""

    cron: str = "0 10 1 * *"
    draft_days: int = 3
    unapproved: str = "wait"


class Issues:
    """The one way an issue is composed and stored, whoever asks: the schedule, a coordinator's
    /newsletter or introduction, `cso-bot newsletter send` and `preview`."""

    def __init__(
        self, db: Database, plan: Plan, clock: Clock, i18n: I18n, plans: Plans | None = None
    ) -> None:
        self.db = db
        self.plan = plan
        self.plans = plans or Plans((plan,))  # a letter counts for the plan running in its month
        self.clock = clock
        self.i18n = i18n

    def t(self, text: str) -> str:
        """Issues are written in the default language (Ukrainian), whoever reads them."""
        return self.i18n.gettext(text, locale=self.i18n.default_locale)

    def plan_of(self, month: str) -> Plan:
        """The plan running in `month` (YYYY-MM); the current one when none runs then."""
        return self.plans.covering(date.fromisoformat(f"{month}-01")) or self.plan

    def send_at(self, schedule: Schedule, month: str) -> datetime | None:
        return send_time(schedule.cron, self.clock.timezone, month)

    async def compose(self, month: str, intro: str = "") -> list[str]:
        """The month's issue as it would be composed now, without storing it."""
        content = await gather(
            self.db, self.plan_of(month), month, self.clock.now(), self.clock.timezone, intro
        )
        return compose(content, self.t)

    async def prepare(
        self, month: str, *, intro: str | None = None, approved: bool = False
    ) -> NewsletterRecord:
        """The month's issue composed afresh and stored: created if missing (a draft, or
        approved when an operator's send asks for it), recomposed while a draft or approved;
        an issue being sent or sent is kept as it is."""
        async with self.db.read() as repo:
            existing = await repo.newsletters.by_month(month)
        if existing is not None and existing.status not in ("draft", "approved"):
            return existing
        text = existing.intro if intro is None and existing is not None else intro or ""
        now = self.clock.now()
        content = await gather(self.db, self.plan_of(month), month, now, self.clock.timezone, text)
        parts = compose(content, self.t)
        met = [(r.indicator_id, r.year) for r in content.results]
        async with self.db.transaction() as repo:
            current = await repo.newsletters.by_month(month)
            if current is None:
                status = "approved" if approved else "draft"
                newsletter_id = await repo.newsletters.create(
                    month, parts, now.astimezone(UTC), intro=text, status=status
                )
            else:
                newsletter_id = current.id
                await repo.newsletters.update_draft(newsletter_id, parts, intro=text)
            await repo.newsletters.set_announced(newsletter_id, met)
            record = await repo.newsletters.get(newsletter_id)
        assert record is not None
        return record

    async def record_activity(
        self, newsletter_id: int, sent_at: datetime | None = None
    ) -> int | None:
        """The activity a sent issue counts as (the plan's `newsletter_indicator`), recorded
        once, dated `sent_at` (else when it finished); its id, None if the issue is not sent or
        the plan names no such indicator."""
        if all(p.indicator(p.newsletter_indicator or "") is None for p in self.plans.all):
            return None
        async with self.db.transaction() as repo:
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
            day = sent_on.astimezone(self.clock.timezone).date()
            plan = self.plans.covering(day)
            indicator = plan.indicator(plan.newsletter_indicator or "") if plan else None
            if plan is None or indicator is None:
                # No loaded plan runs in this month (or it promises no letters): nothing counts.
                return None
            organisation = await repo.organisations.by_name(IRM_NAME)
            if organisation is None:
                organisation = await repo.organisations.create(
                    IRM_NAME, status="verified", reason="the newsletter's sender (measure 2.1.3)"
                )
            activity_id = await repo.activities.add_approved(
                NewActivity(
                    plan_id=plan.id,
                    indicator_id=indicator.id,
                    measure_code=indicator.measure_code,
                    organisation_id=organisation.id,
                    date=day,
                    quantity=1,
                    title=f"Інформаційна розсилка за {newsletter.month}",
                ),
                reason=f"newsletter {newsletter.month} sent",
            )
            await repo.newsletters.set_activity(newsletter_id, activity_id)
        log.info("newsletter %s: activity %s recorded", newsletter.month, activity_id)
        return activity_id

    async def record_sent(self) -> int:
        """Record the activity of every sent issue that lacks one (a send another process made)."""
        async with self.db.read() as repo:
            issues = await repo.newsletters.sent_without_activity()
        recorded = 0
        for issue in issues:
            recorded += await self.record_activity(issue.id) is not None
        return recorded
