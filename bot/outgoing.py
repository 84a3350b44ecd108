"""The one outgoing path: every Bot API request of the process, paced, ordered and retried here.

A session request middleware (aiogram's hook for this), registered by build_bot(), so replies,
notifications, reminders, the newsletter and the CLI's sends all pass through it:

- Rate. Messages (send*, copy*, forward*, edit*) get evenly spaced slots, `rate` per second
  for the whole bot, below Telegram's ~30/s; and at most about one per second to one chat, after
  a burst of `chat_burst` (GCRA), as Telegram allows.
- Priority. When several wait for a slot, a reply to a person who is waiting goes first, then
  notifications, then the newsletter (scheduler/priority.py: a contextvar the bot sets around
  the handling of an update and the newsletter engine around its sends). A waiting newsletter
  still gets one slot in every `newsletter_every` (NEWSLETTER_EVERY), so replies that never
  stop cannot starve it: it always progresses, at a tenth of the rate at worst.
- Pace. Slots keep to a schedule: a slot handed out late (the event loop was busy, a timer
  fired a millisecond late) does not push every later slot back, up to `catch_up` seconds of
  lateness; so the bot sends at its configured rate, not a few per cent under it. The catch-up
  is at most CATCH_UP (20 ms) of slots early, and only while messages wait: at 25/s two slots
  are never closer than 20 ms, so no second holds more than one extra message.
- 429. Telegram did not process the request: every sender pauses for retry_after, then the
  request goes again (at most MAX_FLOOD_WAITS times).
- 5xx and network errors, with bounded backoff (RETRY_DELAYS), for requests safe to repeat:
  * a 5xx answer, for every method: Telegram's front end answers 5xx when the request did not
    complete (502/504 while its back end restarts); a very rare duplicate message is accepted
    against a person who is never answered;
  * a connection that was never made (refused, no route, DNS): nothing reached Telegram;
  * a timeout or a connection dropped mid-request: only for methods that change nothing or set
    a state (get*, set*, delete*, edit*, answerCallbackQuery...). A send (send*, copy*,
    forward*) may already have been delivered: it is not repeated here and the caller sees the
    error (the newsletter engine records it as pending and tries later).
- Several processes (REDIS_URL): the global rate and the 429 pause are shared through Redis
  (SharedBudget), so every worker and a CLI send together stay under the one budget; the
  per-chat pace and the priorities stay in each process. Redis unreachable: each process
  falls back to its own pace (logged once) rather than stop answering.
- getUpdates passes untouched: aiogram's polling has its own backoff, and its long poll must
  not wait for a send slot.
- A 400 is never retried; it is logged with the method and Telegram's reason, never the text
  (nor the token, which only the URL carries).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import ClientConnectorError

from scheduler.priority import Priority, current

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

DEFAULT_RATE = 25.0  # messages per second, all chats together: a margin under Telegram's 30
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)  # after a 5xx or a network error, then give up
MAX_FLOOD_WAITS = 10  # 429s honoured for one request before its caller sees the 429
NEWSLETTER_EVERY = 10  # a waiting newsletter gets at least one slot in this many
CATCH_UP = 0.02  # seconds of a late slot's lateness made up by the next ones
_MESSAGE_PREFIXES = ("send", "copy", "forward", "edit")
_NOT_A_MESSAGE = frozenset({"sendChatAction"})
_NOT_REPEATABLE_PREFIXES = ("send", "copy", "forward")
_UNPACED = frozenset({"getUpdates"})


def is_message(method_name: str) -> bool:
    """Requests Telegram counts against its message limits."""
    return method_name.startswith(_MESSAGE_PREFIXES) and method_name not in _NOT_A_MESSAGE


def may_repeat_after_timeout(method_name: str) -> bool:
    """A request that may have taken effect can be sent again without a second effect."""
    return not method_name.startswith(_NOT_REPEATABLE_PREFIXES) or method_name in _NOT_A_MESSAGE


def never_reached_telegram(error: TelegramNetworkError) -> bool:
    return isinstance(error.__cause__, ClientConnectorError)


@dataclass
class OutgoingStats:
    """What the path did, for logs, tests and benchmarks."""

    requests: int = 0
    flood_waits: int = 0  # 429s honoured
    retries: int = 0  # 5xx / network errors retried
    refused: int = 0  # 400s passed to the caller
    waited: dict[Priority, float] = field(default_factory=dict)  # seconds spent in the queue


# The next free slot of the whole bot, reserved atomically: KEYS[1] the next slot, KEYS[2] the
# pause's end (both in Redis's own clock, microseconds), ARGV[1] the interval, ARGV[2] how much
# lateness is made up (as SendGate's catch_up: a schedule, not a drift). Returns how long the
# caller waits for its slot. Redis's clock, so machines whose clocks differ agree.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local slot = math.max(now - tonumber(ARGV[2]), tonumber(redis.call('GET', KEYS[1]) or '0'),
                      tonumber(redis.call('GET', KEYS[2]) or '0'))
redis.call('SET', KEYS[1], slot + tonumber(ARGV[1]), 'PX', 60000)
return slot - now
"""
# Pause everyone until now + ARGV[1] microseconds (a pause only grows); returns what is left of
# the pause now, 0 for none, when ARGV[1] is 0.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local untilv = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now + tonumber(ARGV[1]))
if untilv > now then
  redis.call('SET', KEYS[1], untilv, 'PX', math.ceil((untilv - now) / 1000) + 1000)
end
return math.max(untilv - now, 0)
"""


class SharedBudget:
    """The bot's send slots and 429 pause in Redis, for every process that sends as this bot."""

    def __init__(self, redis: Redis, bot_id: int | str, interval: float) -> None:
        # Imported here: a bot without REDIS_URL never imports redis (its start-up is faster).
        from redis.exceptions import RedisError

        self._unreachable = (RedisError, OSError)
        self.redis = redis
        self.keys = (f"cso-bot:{bot_id}:next-slot", f"cso-bot:{bot_id}:paused-until")
        self.interval_us = max(1, round(interval * 1_000_000))
        self.catch_up_us = round(CATCH_UP * 1_000_000)
        self._reserve = redis.register_script(_RESERVE)
        self._pause = redis.register_script(_PAUSE)
        self._failing = False

    async def reserve(self) -> float | None:
        """Seconds until this process's next slot; None if Redis cannot say."""
        return await self._ask(
            self._reserve, list(self.keys), [self.interval_us, self.catch_up_us]
        )

    async def pause(self, seconds: float) -> float | None:
        """Pause every process for `seconds` (0: only ask); seconds of pause left, or None."""
        return await self._ask(self._pause, [self.keys[1]], [max(0, round(seconds * 1e6))])

    async def _ask(self, script: Any, keys: list[str], args: list[int]) -> float | None:
        try:
            micros = await script(keys=keys, args=args)
        except self._unreachable as e:
            if not self._failing:
                log.warning("Redis unreachable (%s): sending at this process's own pace", e)
            self._failing = True
            return None
        if self._failing:
            log.warning("Redis reachable again: the send budget is shared again")
        self._failing = False
        return max(int(micros), 0) / 1_000_000


class SendGate:
    """Slots for messages: a global even pace with priorities, a per-chat pace, a shared pause."""

    def __init__(
        self,
        rate: float,
        chat_interval: float = 1.0,
        chat_burst: int = 3,
        shared: SharedBudget | None = None,
        *,
        newsletter_every: int = NEWSLETTER_EVERY,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        if newsletter_every < 1:
            raise ValueError(f"newsletter_every must be at least 1, got {newsletter_every}")
        self.shared = shared
        self.interval = 1.0 / rate
        self.catch_up = CATCH_UP
        self.chat_interval = chat_interval
        self.chat_tolerance = max(chat_burst - 1, 0) * chat_interval
        self.newsletter_every = newsletter_every
        self.granted: Counter[Priority] = Counter()  # message slots handed out, for the stats
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._chat_tat: dict[Any, float] = {}  # GCRA: each chat's theoretical arrival time
        # First come, first served within a priority.
        self._waiting: dict[Priority, deque[asyncio.Future[None]]] = {p: deque() for p in Priority}
        self._passed_over = 0  # slots given to others in a row while the newsletter waited
        self._pump: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def pause(self, seconds: float) -> None:
        """Nobody sends for `seconds` from now (Telegram's retry_after), in every process."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        self._wake.set()
        if self.shared is not None:
            await self.shared.pause(seconds)

    async def wait_for_pause(self) -> None:
        # A pause only ever grows, so sleeping to its current end and looking again suffices.
        while (left := await self._pause_left()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(left)

    async def _pause_left(self) -> float:
        left = self._paused_until - time.monotonic()
        if self.shared is not None:
            # Another process's 429 pauses this one too; learnt here, kept locally.
            shared = await self.shared.pause(0)
            if shared:
                self._paused_until = max(self._paused_until, time.monotonic() + shared)
                left = max(left, shared)
        return left

    async def acquire(self, priority: Priority, chat: Any) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[priority].append(future)
        if self._pump is None or self._pump.done():
            # After a quiet spell the schedule starts afresh: catching up is for slots handed
            # out late while messages waited, not for time nobody wanted to send.
            self._next_slot = max(self._next_slot, time.monotonic())
            self._pump = asyncio.create_task(self._hand_out())
        self._wake.set()
        await future
        # The chat's pace is taken when the message is about to leave, not when it queued:
        # messages to one chat that waited in the queue together must still leave spaced.
        if chat is not None:
            await asyncio.sleep(self._chat_delay(chat))

    def _chat_delay(self, chat: Any) -> float:
        now = time.monotonic()
        tat = max(self._chat_tat.get(chat, now), now)
        delay = max(tat - self.chat_tolerance - now, 0.0)
        self._chat_tat[chat] = tat + self.chat_interval
        if len(self._chat_tat) > 10_000:  # forget chats that are idle again
            self._chat_tat = {c: t for c, t in self._chat_tat.items() if t > now}
        return delay

    def _anyone_waiting(self) -> bool:
        for queue in self._waiting.values():
            while queue and queue[0].done():  # their callers were cancelled
                queue.popleft()
            if queue:
                return True
        return False

    def _next_waiter(self) -> asyncio.Future[None]:
        """Who gets this slot: the first by priority, except that a newsletter passed over for
        newsletter_every - 1 slots in a row gets this one. Call after _anyone_waiting()."""
        letter = self._waiting[Priority.newsletter]
        if letter and self._passed_over >= self.newsletter_every - 1:
            chosen = Priority.newsletter
        else:
            chosen = next(p for p in Priority if self._waiting[p])
        passed_over = letter and chosen != Priority.newsletter
        self._passed_over = self._passed_over + 1 if passed_over else 0
        self.granted[chosen] += 1
        return self._waiting[chosen].popleft()

    async def _hand_out(self) -> None:
        """Give each slot to the next waiter (_next_waiter), one slot at a time, on schedule."""
        while self._anyone_waiting():
            now = time.monotonic()
            due = max(self._next_slot, self._paused_until)
            if due > now:
                self._wake.clear()
                # A pause (or nothing) may come meanwhile: re-check at the slot or when woken.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), due - now)
                continue
            if self.shared is not None and not await self._shared_slot():
                continue
            if not self._anyone_waiting():
                break
            self._next_waiter().set_result(None)
            # The next slot follows this one's due time, not the moment it was handed out, so
            # lateness is made up (up to catch_up), but never what a pause took.
            self._next_slot = max(due, time.monotonic() - self.catch_up) + self.interval

    async def _shared_slot(self) -> bool:
        """Wait for a slot of the whole bot's; False if a pause came meanwhile (look again)."""
        assert self.shared is not None
        wait = await self.shared.reserve()
        if wait is None:  # Redis unreachable: this process's own pace alone
            return True
        if wait > 0:
            await asyncio.sleep(wait)
        # The slot goes to whoever waits first by then: a reply that arrived meanwhile included.
        return await self._pause_left() <= 0


class OutgoingPath(BaseRequestMiddleware):
    """The session request middleware; one per Bot (build_bot registers it)."""

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        *,
        chat_interval: float = 1.0,
        chat_burst: int = 3,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        shared: SharedBudget | None = None,
    ) -> None:
        self.gate = SendGate(rate, chat_interval, chat_burst, shared)
        self.retry_delays = retry_delays
        self.stats = OutgoingStats()

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        if name in _UNPACED:
            return await make_request(bot, method)
        self.stats.requests += 1
        priority = current()
        message = is_message(name)
        chat = getattr(method, "chat_id", None)
        failures = floods = 0
        while True:
            queued = time.monotonic()
            if message:
                await self.gate.acquire(priority, chat)
            else:
                await self.gate.wait_for_pause()
            waited = time.monotonic() - queued
            self.stats.waited[priority] = self.stats.waited.get(priority, 0.0) + waited
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as e:
                floods += 1
                self.stats.flood_waits += 1
                if floods > MAX_FLOOD_WAITS:
                    raise
                log.info("429 on %s: every sender pauses for %s s", name, e.retry_after)
                await self.gate.pause(e.retry_after)
            except TelegramBadRequest as e:
                self.stats.refused += 1
                log.warning("Telegram refused %s: %s", name, e.message)
                raise
            except (TelegramServerError, TelegramNetworkError) as e:
                repeatable = (
                    isinstance(e, TelegramServerError)
                    or never_reached_telegram(e)
                    or may_repeat_after_timeout(name)
                )
                if not repeatable or failures >= len(self.retry_delays):
                    log.warning("%s failed for good: %s", name, e.message)
                    raise
                delay = self.retry_delays[failures]
                failures += 1
                self.stats.retries += 1
                log.info("%s failed (%s): retry %d in %.1f s", name, e.message, failures, delay)
                await asyncio.sleep(delay)
