"""What time it is in the city: the one clock every rule asks, and the one thing tests replace."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

KYIV = ZoneInfo("Europe/Kyiv")


def _system_now() -> datetime:
    return datetime.now(UTC)


class Clock:
    """Now and today in the city's time zone.

    Built once at start-up and handed to everything that reads the time, so "today" is the
    city's today wherever the machine runs. Tests build one with `Clock.fixed(moment)` and move
    it with `set` or `advance` instead of patching functions.
    """

    def __init__(
        self, timezone: ZoneInfo = KYIV, source: Callable[[], datetime] = _system_now
    ) -> None:
        self.timezone = timezone
        self._source = source

    @classmethod
    def fixed(cls, moment: datetime, timezone: ZoneInfo = KYIV) -> Clock:
        """A clock that stays at `moment` (aware) until it is set or advanced."""
        clock = cls(timezone)
        clock.set(moment)
        return clock

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a clock is set to an aware datetime")
        self._source = lambda: moment

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)

    def now(self) -> datetime:
        """The current moment, aware, in the city's zone."""
        return self._source().astimezone(self.timezone)

    def today(self) -> date:
        return self.now().date()
