"""The one outgoing path: every Bot API request of the process, paced, ordered and retried here.

A session request middleware (aiogram's hook for this), registered by build_bot(), so replies,
notifications, reminders, the newsletter and the CLI's sends all pass through it:

- Rate. Messages (send*, copy*, forward*, edit*) get evenly spaced slots, `rate` per second
  for the whole bot, below Telegram's ~30/s; and at most about one per second to one chat, after
  a burst of `chat_burst` (GCRA), as Telegram allows.
- Priority. When several wait for a slot, a reply to a person who is waiting goes first, then
  notifications, then the newsletter (scheduler/priority.py: a contextvar the bot sets around
  the handling of an update and the newsletter engine around its sends).
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
- getUpdates passes untouched: aiogram's polling has its own backoff, and its long poll must
  not wait for a send slot.
- A 400 is never retried; it is logged with the method and Telegram's reason, never the text
  (nor the token, which only the URL carries).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Any

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

log = logging.getLogger(__name__)

DEFAULT_RATE = 25.0  # messages per second, all chats together: a margin under Telegram's 30
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)  # after a 5xx or a network error, then give up
MAX_FLOOD_WAITS = 10  # 429s honoured for one request before its caller sees the 429
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


class SendGate:
    """Slots for messages: a global even pace with priorities, a per-chat pace, a shared pause."""

    def __init__(self, rate: float, chat_interval: float = 1.0, chat_burst: int = 3) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.interval = 1.0 / rate
        self.chat_interval = chat_interval
        self.chat_tolerance = max(chat_burst - 1, 0) * chat_interval
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._chat_tat: dict[Any, float] = {}  # GCRA: each chat's theoretical arrival time
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._pump: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def pause(self, seconds: float) -> None:
        """Nobody sends for `seconds` from now (Telegram's retry_after)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        self._wake.set()

    async def wait_for_pause(self) -> None:
        # A pause only ever grows, so sleeping to its current end and looking again suffices.
        while (left := self._paused_until - time.monotonic()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(left)

    async def acquire(self, priority: Priority, chat: Any) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (int(priority), next(self._order), future))
        if self._pump is None or self._pump.done():
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

    async def _hand_out(self) -> None:
        """Give the next slot to the first waiter by (priority, arrival), one slot at a time."""
        while self._waiting:
            now = time.monotonic()
            start = max(self._next_slot, self._paused_until)
            if start > now:
                self._wake.clear()
                # A pause (or nothing) may come meanwhile: re-check at the slot or when woken.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), start - now)
                continue
            _, _, future = heapq.heappop(self._waiting)
            if future.done():  # its caller was cancelled
                continue
            future.set_result(None)
            self._next_slot = max(now, self._next_slot) + self.interval


class OutgoingPath(BaseRequestMiddleware):
    """The session request middleware; one per Bot (build_bot registers it)."""

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        *,
        chat_interval: float = 1.0,
        chat_burst: int = 3,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self.gate = SendGate(rate, chat_interval, chat_burst)
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
                self.gate.pause(e.retry_after)
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
