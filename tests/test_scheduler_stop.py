"""A process that stops (or hands the lease over) lets its running jobs finish, never cancels
them mid-way: a cancelled job leaves its work half done and a traceback in the log."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.app import stop_scheduler
from scheduler import build_scheduler


async def test_a_running_job_finishes_before_the_scheduler_stops() -> None:
    scheduler = build_scheduler(ZoneInfo("Europe/Kyiv"))
    events: list[str] = []
    started = asyncio.Event()

    async def job() -> None:
        events.append("started")
        started.set()
        await asyncio.sleep(0.5)
        events.append("finished")

    scheduler.add_job(job, "date", run_date=datetime.now(ZoneInfo("Europe/Kyiv")))
    scheduler.add_job(
        job, "date", run_date=datetime.now(ZoneInfo("Europe/Kyiv")) + timedelta(seconds=2)
    )
    scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    await stop_scheduler(scheduler)
    assert events == ["started", "finished"]  # the later job never starts
    await asyncio.sleep(0.05)  # AsyncIOScheduler stops on the loop's next turn
    assert not scheduler.running
    await asyncio.sleep(2.2)
    assert events == ["started", "finished"]
