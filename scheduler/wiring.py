"""The scheduler behind a small interface, started inside the running loop and stopped cleanly."""

from __future__ import annotations

import logging
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)


class Scheduler(Protocol):
    def start(self) -> None: ...
    def shutdown(self, wait: bool = True) -> None: ...
    @property
    def running(self) -> bool: ...


def build_scheduler(timezone: ZoneInfo) -> AsyncIOScheduler:
    # Not started here: AsyncIOScheduler binds to the loop that is running when it starts.
    return AsyncIOScheduler(timezone=timezone)
