"""A reminder that meets a 429 arrives after retry_after, once: through the one outgoing path
(every request of the bot), never dropped as a generic error."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.app import App, build_bot
from bot.config import Settings
from fakes.bot_api import FakeBotAPI
from plan.clock import Clock
from scheduler import reminders
from scheduler.reminders import ReminderPlanner
from tests.test_reminder_jobs import MEMBER_ID, Recorder, _event

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock.fixed(NOW)


async def test_a_reminder_that_meets_a_429_arrives_after_retry_after(
    app: App, settings: Settings, clock: Clock
) -> None:
    event = await _event(app)
    async with app.db.transaction() as repo:
        await repo.events.attend(event, MEMBER_ID, NOW)
    async with FakeBotAPI(str(settings.bot_token)) as api:
        bot = build_bot(replace(settings, telegram_api_url=api.url))
        try:
            recorder = Recorder()
            await ReminderPlanner(recorder, 24, clock).start(bot, app.db, app.i18n)
            job = recorder.jobs[reminders.reminder_job_id(event)]
            api.flood(retry_after=2)  # Telegram's flood control answers the reminder 429
            started = time.monotonic()
            await job["func"](*job["args"])
        finally:
            await bot.session.close()
    sends = [c for c in api.calls_of("sendMessage") if c.params.get("chat_id") == MEMBER_ID]
    assert [c.status for c in sends] == [429, 200], "refused once, then delivered once"
    assert "Нагадування" in sends[-1].params["text"]
    assert sends[-1].at - started >= 2.0, "sent again only after retry_after"
