"""Run modes: long polling (the default) and webhook, both stopping cleanly on SIGINT/SIGTERM.

Both record every update in the journal (bot/journal.py) before Telegram learns it arrived, and
both wait for the Bot API at start: unreachable, it is one line per try and a growing pause.

Several processes may run (webhook workers behind a proxy, REDIS_URL set): each answers what it
receives; one of them, elected through a lease (scheduler/leader.py), runs the scheduled work;
`--no-scheduler` makes a pure webhook worker that never runs it. The webhook is registered with
Telegram by `cso-bot webhook set`, a deploy step, not by every worker at start-up. A worker
serves GET /healthz for the proxy: 200 when the database (and Redis) answer, else 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable
from typing import TypeVar
from urllib.parse import urlparse

from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramServerError
from aiogram.methods import GetUpdates
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from bot.app import App, scheduler_lease, start_scheduled_work, warm_search_soon
from bot.heap import resume_collector, settle_heap
from bot.journal import UpdateJournal
from scheduler.leader import Leadership
from web import Site, add_site_routes

log = logging.getLogger(__name__)
T = TypeVar("T")
POLL_SECONDS = 10
START_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)  # between tries to reach the API at start
POLL_DELAYS = (1.0, 2.0, 5.0, 10.0)  # between failed getUpdates
DRAIN_SECONDS = 10.0  # updates in hand at a stop may finish; the rest replay at the next start
HEALTH_TIMEOUT = 3.0  # seconds the health check waits for the database or Redis


class Stop:
    """SIGINT/SIGTERM set it; every wait of the run modes ends on it."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.event.set)

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    async def sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), seconds)

    async def unless_stopped(self, work: Awaitable[T]) -> T | None:
        """The result of work, or None if a stop came first (work is then cancelled)."""
        task = asyncio.ensure_future(work)
        stopping = asyncio.ensure_future(self.event.wait())
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return None


async def reach_api(bot: Bot, stop: Stop) -> bool:
    """Wait until the Bot API answers (one log line per failed try); False if stopped first."""
    for attempt in range(1_000_000):
        try:
            await bot.get_me()
            return True
        except (TelegramNetworkError, TelegramServerError) as e:
            # No hurry now, and the tries may go on for long: their garbage is collected as
            # usual (the collector may be paused for start-up, bot/heap.py).
            resume_collector()
            delay = START_DELAYS[min(attempt, len(START_DELAYS) - 1)]
            log.warning("the Telegram Bot API is unreachable (%s): next try in %g s", e, delay)
        await stop.sleep(delay)
        if stop.requested:
            return False
    return False


class Scheduled:
    """The scheduled work of this process: led when the lease is won, never with --no-scheduler.

    While leading, a chore every LEADER_LEASE seconds picks up what other processes did:
    reminders of events they changed, a send a stopped process (or a CLI handing over) left
    'sending', and, with several workers, updates a stopped worker left unfinished."""

    def __init__(
        self, app: App, bot: Bot, journal: UpdateJournal, stop: Stop, enabled: bool
    ) -> None:
        self.app = app
        self.bot = bot
        self.journal = journal
        self.enabled = enabled
        self.leadership = Leadership(
            scheduler_lease(app.settings, app.redis, bot.id),
            app.settings.leader_lease,
            self._elected,
            stop.event.set,
        )
        self._stop = stop
        self._task: asyncio.Task[None] | None = None

    @property
    def lost(self) -> bool:
        """The lease was lost while leading: the process stops with a failure status."""
        return self.leadership.lost

    def start(self) -> None:
        if self.enabled:
            self._task = asyncio.create_task(self.leadership.run(self._stop.event))

    async def resign(self) -> None:
        """After the shutdown: the lease goes to the next process at once."""
        if self._task is not None:
            # Its last look ends first, so it cannot take the lease again after the release.
            await asyncio.wait({self._task}, timeout=5)
            await self.leadership.lease.release()

    async def _elected(self) -> None:
        dp = self.app.dispatcher
        await start_scheduled_work(dp, self.bot)
        dp["scheduler"].add_job(
            self.chores, "interval", seconds=self.app.settings.leader_lease, id="leader-chores",
            replace_existing=True,
        )  # fmt: skip

    async def chores(self) -> None:
        """Job: what other processes left to the leader; a failure waits for the next run."""
        dp = self.app.dispatcher
        try:
            await dp["reminders"].replan(self.app.db)
            await dp["newsletter"].resume_orphans(self.bot)
            if self.app.redis is not None:
                await self.journal.replay(orphans_only=True)
        except Exception:
            log.exception("the leader's chores failed; the next run tries again")


def workflow_of(app: App, bot: Bot) -> dict[str, object]:
    """What startup and shutdown handlers get; the leader, not start-up, runs scheduled work."""
    dp = app.dispatcher
    return {"dispatcher": dp, "bots": (bot,), **dp.workflow_data, "lead_at_startup": False}


async def run_polling(app: App, bot: Bot, *, scheduler: bool = True) -> int:
    stop = Stop()
    dp = app.dispatcher
    journal = UpdateJournal(app.db, dp, bot)
    try:
        if not await reach_api(bot, stop):
            return 0
        # getUpdates does not work while a webhook is set.
        await bot.delete_webhook(drop_pending_updates=False)
        workflow = workflow_of(app, bot)
        scheduled = Scheduled(app, bot, journal, stop, scheduler)
        await dp.emit_startup(bot=bot, **workflow)
        try:
            await journal.replay()
            scheduled.start()
            settle_heap()
            log.info("polling for updates")
            warm_search_soon(dp)
            await _poll(bot, journal, stop, dp.resolve_used_update_types())
        finally:
            await journal.drain(DRAIN_SECONDS)
            await dp.emit_shutdown(bot=bot, **workflow)
            await scheduled.resign()
        return 1 if scheduled.lost else 0
    finally:
        await bot.session.close()


async def _poll(bot: Bot, journal: UpdateJournal, stop: Stop, allowed: list[str]) -> None:
    offset: int | None = None
    failures = 0
    while not stop.requested:
        request = GetUpdates(offset=offset, timeout=POLL_SECONDS, allowed_updates=allowed)
        try:
            updates = await stop.unless_stopped(bot(request, request_timeout=POLL_SECONDS + 30))
        except Exception as e:
            delay = POLL_DELAYS[min(failures, len(POLL_DELAYS) - 1)]
            failures += 1
            log.warning("getUpdates failed (%s: %s): next try in %g s", type(e).__name__, e, delay)
            await stop.sleep(delay)
            continue
        if updates is None:
            return
        failures = 0
        # Recorded (committed) first: only then may the next offset confirm them to Telegram.
        for update in await journal.record(updates):
            journal.handle_soon(update)
        if updates:
            offset = updates[-1].update_id + 1


def webhook_path(url: str) -> str:
    return urlparse(url).path or "/webhook"


class JournalRequestHandler(SimpleRequestHandler):
    """Telegram's webhook call: 401 without the secret, 400 for what is not an update, and 200
    only once the update is recorded in the journal; handling goes on in the background."""

    def __init__(self, journal: UpdateJournal, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.journal = journal

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), bot):
            return web.Response(body="Unauthorized", status=401)
        try:
            update = Update.model_validate(await request.json(), context={"bot": bot})
        except (ValueError, ValidationError):
            return web.Response(body="Bad Request: not an update", status=400)
        for fresh in await self.journal.record([update]):
            self.journal.handle_soon(fresh)
        return web.json_response({})


async def health(app: App) -> tuple[bool, dict[str, str]]:
    """Whether this worker can serve: the database answers, and Redis when it is configured."""
    checks: dict[str, str] = {}

    async def database() -> None:
        async with app.db.read() as repo:
            await repo.received_updates.unfinished_before(app.dispatcher["clock"].now())

    async def redis() -> None:
        assert app.redis is not None
        await app.redis.ping()  # type: ignore[misc]  # redis-py types sync and async as one

    probes = {"database": database}
    if app.redis is not None:
        probes["redis"] = redis
    for name, probe in probes.items():
        try:
            await asyncio.wait_for(probe(), HEALTH_TIMEOUT)
            checks[name] = "ok"
        except Exception as e:
            checks[name] = f"failing: {type(e).__name__}"
    return all(v == "ok" for v in checks.values()), checks


def build_webhook_app(
    app: App,
    bot: Bot,
    journal: UpdateJournal | None = None,
    *,
    scheduled: Scheduled | None = None,
) -> web.Application:
    """The aiohttp application Telegram (through the proxy) calls, with /healthz beside it."""
    settings = app.settings
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    journal = journal or UpdateJournal(app.db, app.dispatcher, bot)
    dp = app.dispatcher
    web_app = web.Application()
    JournalRequestHandler(
        journal, dispatcher=dp, bot=bot, secret_token=str(settings.webhook_secret)
    ).register(web_app, path=webhook_path(settings.webhook_url))
    workflow = workflow_of(app, bot) if scheduled is not None else {
        "dispatcher": dp, "bots": (bot,), **dp.workflow_data,
    }  # fmt: skip

    async def healthz(_: web.Request) -> web.Response:
        ok, checks = await health(app)
        return web.json_response({"ok": ok, **checks}, status=200 if ok else 503)

    web_app.router.add_get("/healthz", healthz)
    # The public progress website, beside the webhook on the same server.
    add_site_routes(web_app, Site(dp["plans"].all, app.db, dp["clock"]))

    async def start(_: web.Application) -> None:
        await dp.emit_startup(bot=bot, **workflow)
        # Several workers share the journal: each replays only what a stopped one left.
        await journal.replay(orphans_only=app.redis is not None)
        if scheduled is not None:
            scheduled.start()

    async def finish(_: web.Application) -> None:
        await journal.drain(DRAIN_SECONDS)
        await dp.emit_shutdown(bot=bot, **workflow)
        if scheduled is not None:
            await scheduled.resign()

    web_app.on_startup.append(start)
    web_app.on_shutdown.append(finish)
    return web_app


async def run_webhook(app: App, bot: Bot, *, scheduler: bool = True) -> int:
    settings = app.settings
    stop = Stop()
    try:
        if not await reach_api(bot, stop):
            return 0
        journal = UpdateJournal(app.db, app.dispatcher, bot)
        scheduled = Scheduled(app, bot, journal, stop, scheduler)
        runner = web.AppRunner(build_webhook_app(app, bot, journal, scheduled=scheduled))
        await runner.setup()
        site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
        await site.start()
        settle_heap()
        log.info("webhook server listening on %s:%s", settings.webhook_host, settings.webhook_port)
        warm_search_soon(app.dispatcher)
        try:
            await stop.event.wait()
        finally:
            log.info("shutting down")
            await runner.cleanup()
        return 1 if scheduled.lost else 0
    finally:
        await bot.session.close()
