"""Event reminders' jobs, bound at start-up to the bot, reading time from the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram.methods import SendMessage

from bot.app import App
from db.events import NewEvent
from plan.clock import Clock
from scheduler import reminders
from scheduler.reminders import ReminderPlanner
from tests.conftest import Chat

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
MEMBER_ID = 100
OTHER_ID = 200


@pytest.fixture
def clock() -> Clock:
    return Clock.fixed(NOW)


class Recorder:
    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}

    def add_job(self, func: Any, trigger: Any = None, **kwargs: Any) -> None:
        self.jobs[kwargs["id"]] = {"func": func, "trigger": trigger, **kwargs}

    def remove_job(self, job_id: str, jobstore: str | None = None) -> None:
        self.jobs.pop(job_id, None)


async def _event(app: App, **changes: Any) -> int:
    values: dict[str, Any] = {
        "title": "Форум ІГС",
        "starts_at": datetime(2026, 3, 14, 10, 0, tzinfo=KYIV),
        "ends_at": datetime(2026, 3, 14, 12, 0, tzinfo=KYIV),
        "place": "Вінниця",
        "organiser": "ІРМ",
        "organisation_id": None,
        "measures": ("2.1.3",),
        "description": "",
        "capacity": None,
        "status": "approved",
        "proposed_by": None,
        "created_by": 900,
    } | changes
    async with app.db.transaction() as repo:
        return await repo.events.create(NewEvent(**values), NOW)


async def test_start_up_plans_reminders_and_the_job_reminds_once(app: App, clock: Clock) -> None:
    due = await _event(app)
    soon = await _event(app, starts_at=NOW + timedelta(hours=2), ends_at=NOW + timedelta(hours=3))
    await _event(app, status="cancelled")
    async with app.db.transaction() as repo:
        await repo.events.attend(due, MEMBER_ID, NOW)
        await repo.events.attend(soon, OTHER_ID, NOW)
    recorder, sender = Recorder(), Chat(app, MEMBER_ID)
    planner = ReminderPlanner(recorder, 24, clock)
    await planner.start(sender.bot, app.db, app.i18n)
    planned = {k: v["run_date"] for k, v in recorder.jobs.items() if "run_date" in v}
    assert planned == {
        reminders.reminder_job_id(due): datetime(2026, 3, 13, 8, 0, tzinfo=UTC),
        reminders.reminder_job_id(soon): NOW + reminders.SOON,
    }
    assert recorder.jobs[reminders.REPORT_CHECK_JOB]["trigger"] == "interval"

    job = recorder.jobs[reminders.reminder_job_id(due)]
    await job["func"](*job["args"])  # as APScheduler calls it: with the event's id only
    await job["func"](*job["args"])  # e.g. a job that ran again after a restart
    told = [r for r in sender.session.requests if isinstance(r, SendMessage)]
    assert [r.chat_id for r in told] == [MEMBER_ID]
    assert "Нагадування" in str(told[0].text) and "сб, 14 березня, 10:00" in str(told[0].text)
