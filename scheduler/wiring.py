"""The scheduler behind a small interface, started inside the running loop and stopped cleanly."""

from __future__ import annotations

import logging
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)


class Scheduler(Protocol):
    """What the bot uses of APScheduler's scheduler (tests may pass a recorder)."""

    def add_job(self, func: Any, trigger: Any = None, **kwargs: Any) -> Any: ...
    def remove_job(self, job_id: str, jobstore: str | None = None) -> None: ...
    def start(self) -> None: ...
    def shutdown(self, wait: bool = True) -> None: ...
    @property
    def running(self) -> bool: ...


def build_scheduler(timezone: ZoneInfo) -> AsyncIOScheduler:
    # Not started here: AsyncIOScheduler binds to the loop that is running when it starts.
    return AsyncIOScheduler(timezone=timezone)
