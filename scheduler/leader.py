"""One scheduler leader: exactly one process runs the scheduled work, another takes over.

A lease names the leader. With Redis (several processes, possibly on several machines) it is a
key set with NX and an expiry, renewed by its holder every third of the lease: a leader that
dies is replaced within one lease period. Without Redis it is an exclusive lock on a file
beside the database (one machine, as SQLite is): the kernel releases it the moment its holder
dies, and a follower polling the lock takes over.

What the leader runs (reminders, the newsletter's drafts and sends, after-event invitations)
keeps its memory in the database, so a new leader resumes a send in progress exactly as a
restarted process does. A leader that loses its lease while alive (Redis unreachable for longer
than the lease, or the key taken over) stops its process: a supervisor restarts it as a
follower, and no two leaders run at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from scheduler.liveness import process_name

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

# Renew the lease only if this process still holds it, in one step.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Lease(Protocol):
    """Who leads. acquire() takes or renews it: True while this process holds it.
    `unreachable`: the errors that mean the lease cannot be looked at just now."""

    unreachable: tuple[type[BaseException], ...]

    async def acquire(self) -> bool: ...
    async def release(self) -> None: ...


class RedisLease:
    """A key that names the leader, expiring `seconds` after its last renewal."""

    def __init__(self, redis: Redis, key: str, seconds: float) -> None:
        # Imported here: a bot without REDIS_URL never imports redis (its start-up is faster).
        from redis.exceptions import RedisError

        self.unreachable: tuple[type[BaseException], ...] = (RedisError, OSError)
        self.redis = redis
        self.key = key
        self.ttl_ms = max(1, round(seconds * 1000))
        self.holder = process_name()
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._held = False

    async def acquire(self) -> bool:
        if self._held and await self._renew(keys=[self.key], args=[self.holder, self.ttl_ms]):
            return True
        self._held = bool(await self.redis.set(self.key, self.holder, nx=True, px=self.ttl_ms))
        return self._held

    async def release(self) -> None:
        if self._held:
            self._held = False
            with contextlib.suppress(*self.unreachable):
                await self._release(keys=[self.key], args=[self.holder])

    async def current(self) -> str | None:
        """Who leads now (for logs and `cso-bot` status), None if nobody does."""
        value = await self.redis.get(self.key)
        return value.decode() if isinstance(value, bytes) else value


class FileLease:
    """An exclusive lock on a file: held until released or until its process dies."""

    unreachable: tuple[type[BaseException], ...] = (OSError,)

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    async def acquire(self) -> bool:
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self.path.open("a+b")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            file.close()
            return False
        # Who holds it, for a person looking at the file; the lock itself is what counts.
        file.truncate(0)
        file.write(f"{process_name()}\n".encode())
        file.flush()
        os.fsync(file.fileno())
        self._file = file
        return True

    async def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class Leadership:
    """Polls the lease: on winning it runs `on_elected`; on losing it calls `on_lost`.

    Followers look every third of the lease period, so a dead leader's Redis lease (expiring
    after `period`) is taken over within about 1.3 periods; a file lease at the next look.
    """

    def __init__(
        self,
        lease: Lease,
        period: float,
        on_elected: Callable[[], Awaitable[None]],
        on_lost: Callable[[], None],
    ) -> None:
        self.lease = lease
        self.period = period
        self.on_elected = on_elected
        self.on_lost = on_lost
        self.leading = False
        self.lost = False  # lost while leading: the process must stop
        self._renewed = 0.0
        self._failing = False

    async def run(self, stopped: asyncio.Event) -> None:
        """Until `stopped` is set or the lease is lost; the caller releases the lease once its
        scheduled work has stopped, so two leaders never overlap."""
        try:
            while not stopped.is_set():
                if not await self._look():
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopped.wait(), self.period / 3)
        except Exception:
            # Leading half-started (its scheduled work failed to start) is worse than not
            # leading: stop, and let a supervisor start this process again as a follower.
            log.exception("the scheduler leadership failed: stopping")
            self.lost = True
            self.on_lost()

    async def _look(self) -> bool:
        """One look at the lease; False once this process must stop leading."""
        try:
            held = await self.lease.acquire()
        except self.lease.unreachable as e:
            if not self._failing:
                log.warning("the scheduler lease cannot be reached (%s)", e)
            self._failing = True
            # A leader keeps leading until its lease would have expired: nobody else can
            # have taken it before then.
            if self.leading and time.monotonic() - self._renewed >= self.period:
                log.error("scheduler lease lost (unreachable for %.0f s): stopping", self.period)
                self.lost = True
                self.on_lost()
                return False
            return True
        self._failing = False
        if held:
            self._renewed = time.monotonic()
            if not self.leading:
                self.leading = True
                log.info("this process is the scheduler leader now")
                await self.on_elected()
            return True
        if self.leading:
            log.error("scheduler lease taken by another process: stopping")
            self.lost = True
            self.on_lost()
            return False
        return True
