"""The monthly job: catch-up at start-up, unapproved issues, no double send, the 2.1.3 record."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.methods import SendMessage

from bot.app import App, build_newsletter
from db.coordinators import Coordinators
from db.events import NewEvent
from plan.clock import Clock
from scheduler.newsletter import job
from scheduler.newsletter.issue import IRM_NAME
from scheduler.newsletter.job import Newsletter
from scheduler.notifier import Notifier
from tests.conftest import COORDINATOR_ID, Chat

NOW = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)  # after 1 March 10:00 Kyiv: the send was missed
SUBSCRIBERS = [501, 502, 503]


class Recorder:
    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}

    def add_job(self, func: Any, trigger: Any = None, **kwargs: Any) -> None:
        self.jobs[kwargs["id"]] = {"func": func, "trigger": trigger, **kwargs}


@pytest.fixture
def clock() -> Clock:
    return Clock.fixed(NOW)


async def _subscribe(app: App) -> None:
    async with app.db.transaction() as repo:
        for chat in SUBSCRIBERS:
            await repo.subscribers.subscribe(chat, chat, NOW)


def _newsletter(app: App, **changes: Any) -> Newsletter:
    """The newsletter as build_dispatcher makes it, with changed settings."""
    settings = dataclasses.replace(app.settings, **changes)
    coordinators = Coordinators(app.db, settings.coordinator_ids)
    clock: Clock = app.dispatcher["clock"]
    return build_newsletter(
        settings, app.plan, app.db, app.i18n, clock, coordinators, Notifier(app.db, app.i18n)
    )


async def _start(app: App, chat: Chat, **changes: Any) -> Recorder:
    """What `cso-bot run` does at start-up, with a recording scheduler; then the catch-up."""
    newsletter, recorder = _newsletter(app, **changes), Recorder()
    jobs = newsletter.start(chat.bot, recorder)
    await jobs.tick()  # the catch-up job, due a few seconds after start
    await asyncio.wait_for(asyncio.gather(*newsletter.deliveries.tasks), timeout=10)
    return recorder


def _to_subscribers(chat: Chat) -> list[int]:
    return sorted(
        r.chat_id
        for r in chat.session.requests
        if isinstance(r, SendMessage) and r.chat_id in SUBSCRIBERS
    )


async def _activities(app: App) -> int:
    async with app.db.read() as repo:
        counted = await repo.activities.counted(app.plan.id)
    return sum(a.indicator_id == app.plan.newsletter_indicator for a in counted)


async def test_a_month_missed_while_down_is_sent_at_startup_and_never_twice(
    app: App, clock: Clock
) -> None:
    await _subscribe(app)
    coordinator = Chat(app, COORDINATOR_ID)
    clock.set(datetime(2024, 2, 27, tzinfo=UTC))
    issue = await _newsletter(app).issues.prepare("2024-03")
    clock.set(NOW)
    async with app.db.transaction() as repo:
        assert await repo.newsletters.approve(issue.id, COORDINATOR_ID)

    recorder = await _start(app, coordinator)
    assert recorder.jobs[job.SEND_JOB]["trigger"].fields[2].expressions[0].first == 1
    assert _to_subscribers(coordinator) == SUBSCRIBERS
    async with app.db.read() as repo:
        sent = await repo.newsletters.by_month("2024-03")
        assert sent is not None and sent.status == "sent"
        activity_id = await repo.newsletters.activity_of(sent.id)
        irm = await repo.organisations.by_name(IRM_NAME)
    assert activity_id is not None and irm is not None and irm.status == "verified"
    assert await _activities(app) == 1
    edits = [r for r in coordinator.session.requests if r.__api_method__ == "editMessageText"]
    assert edits and "✅" in str(edits[-1].text)  # one progress message, finished

    # A restart right after the send: nothing goes out again, nothing is recorded twice.
    restarted = Chat(app, COORDINATOR_ID)
    await _start(app, restarted)
    assert _to_subscribers(restarted) == []
    assert await _activities(app) == 1
    async with app.db.read() as repo:
        [one] = await repo.reports.of_organisation(irm.id)
    assert one.indicator_id == "2.1.3-newsletters" and one.status == "approved"
    assert one.date.isoformat() == "2024-03-05"


async def test_unapproved_issue_waits_and_coordinators_are_told_once(app: App) -> None:
    await _subscribe(app)
    coordinator = Chat(app, COORDINATOR_ID)
    await _start(app, coordinator)  # no issue at all: composed now, and it waits
    assert _to_subscribers(coordinator) == []
    told = [
        str(r.text)
        for r in coordinator.session.requests
        if isinstance(r, SendMessage) and "NEWSLETTER_UNAPPROVED=wait" in str(r.text)
    ]
    assert len(told) == 1
    async with app.db.read() as repo:
        issue = await repo.newsletters.by_month("2024-03")
    assert issue is not None and issue.status == "draft"
    again = Chat(app, COORDINATOR_ID)
    await _start(app, again)
    assert not any(
        "NEWSLETTER_UNAPPROVED" in str(getattr(r, "text", "")) for r in again.session.requests
    )


async def test_unapproved_issue_with_send_goes_out_and_coordinators_are_told(app: App) -> None:
    await _subscribe(app)
    async with app.db.transaction() as repo:
        await repo.events.create(
            NewEvent(
                "Форум <ІГС>", datetime(2024, 3, 20, 10, tzinfo=UTC),
                datetime(2024, 3, 20, 12, tzinfo=UTC), "Вінниця", "ІРМ", None, ("2.1.3",),
                "", None, "approved", None, COORDINATOR_ID,
            ),
            NOW,
        )  # fmt: skip
    coordinator = Chat(app, COORDINATOR_ID)
    await _start(app, coordinator, newsletter_unapproved="send")
    assert _to_subscribers(coordinator) == SUBSCRIBERS
    texts = [str(getattr(r, "text", "")) for r in coordinator.session.requests]
    assert any("NEWSLETTER_UNAPPROVED=send" in t for t in texts)
    issue_text = next(
        str(r.text)
        for r in coordinator.session.requests
        if isinstance(r, SendMessage) and r.chat_id == SUBSCRIBERS[0]
    )
    assert "Форум &lt;ІГС&gt;" in issue_text
    assert await _activities(app) == 1


async def test_draft_is_prepared_before_send_time_with_a_preview(app: App, clock: Clock) -> None:
    clock.set(datetime(2024, 3, 30, 12, tzinfo=UTC))
    coordinator = Chat(app, COORDINATOR_ID)
    await _start(app, coordinator)
    async with app.db.read() as repo:
        april = await repo.newsletters.by_month("2024-04")
    assert april is not None and april.status == "draft"
    assert "✅ Схвалити" in "".join(coordinator.buttons())


def test_the_plan_names_the_indicator_sent_issues_count_towards(app: App) -> None:
    import yaml

    from plan.loader import PlanError, parse_plan

    assert app.plan.newsletter_indicator == "2.1.3-newsletters"
    raw = yaml.safe_load(app.settings.plan_file.read_text(encoding="utf-8"))
    raw["plan"]["newsletter_indicator"] = "9.9.9-nothing"
    with pytest.raises(PlanError, match="newsletter_indicator"):
        parse_plan(raw)
