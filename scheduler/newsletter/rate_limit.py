"""Pacing of sends: a global rate every sender shares, and a pause for all of them on a 429."""

from __future__ import annotations

import asyncio
import time


class RateLimiter:
    """Hands out send slots at most `rate` per second, spaced evenly; pause() stops everyone.

    Even spacing (rather than bursts of `rate` per second) keeps every sliding one-second window
    Telegram looks at below the limit, whatever the network does to the timing.
    """

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.interval = 1.0 / rate
        self._next = 0.0
        self._paused_until = 0.0

    async def acquire(self) -> None:
        """Wait for this caller's slot; a pause that starts meanwhile postpones it."""
        while True:
            now = time.monotonic()
            if self._paused_until > now:
                await asyncio.sleep(self._paused_until - now)
                continue
            slot = max(now, self._next)
            self._next = slot + self.interval
            if slot > now:
                await asyncio.sleep(slot - now)
            # A 429 that arrived while we slept holds this send back too.
            if self._paused_until <= time.monotonic():
                return

    def pause(self, seconds: float) -> None:
        """Nobody sends for `seconds` from now (Telegram's retry_after)."""
        until = time.monotonic() + seconds
        self._paused_until = max(self._paused_until, until)
        self._next = max(self._next, self._paused_until)

    @property
    def paused(self) -> bool:
        return self._paused_until > time.monotonic()
