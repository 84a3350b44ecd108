"""The one place the bot is assembled: used by `cso-bot run`, `cso-bot chat` and the tests."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.types import BotCommandScopeDefault
from aiogram.utils.i18n import I18n

from bot.config import Settings
from bot.http_session import BotAPISession
from bot.i18n import LOCALES, build_i18n
from bot.middlewares import PROFILE_SECONDS, Profiles, UserLocaleMiddleware, UserMiddleware
from bot.outgoing import OutgoingPath, SharedBudget
from bot.safeguards import event_isolation, install_safeguards
from bot.storage import DatabaseStorage
from db import Database
from db.coordinators import Coordinators
from formats.site import SiteLinks
from handlers import get_routers
from handlers.commands import GUEST_COMMANDS, offer_coordinator_menu
from plan import Plan
from plan.clock import Clock
from plan.plans import Plans, load_plans
from plan.search import MeasureSearch
from scheduler import Scheduler, build_scheduler
from scheduler.leader import FileLease, Lease, RedisLease
from scheduler.newsletter.delivery import DeliveryOptions
from scheduler.newsletter.issue import Issues, Schedule
from scheduler.newsletter.job import Newsletter
from scheduler.notifier import Notifier
from scheduler.reminders import ReminderPlanner

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)
# Seconds after polling begins before the search index is built: the first getUpdates and the
# first answers go out first, then a worker thread loads the morphology (~0.3 s of CPU).
WARM_SEARCH_AFTER = 1.0


@dataclass
class App:
    """Everything long-lived, built once at start-up and closed once at shutdown."""

    settings: Settings
    plan: Plan
    db: Database
    i18n: I18n
    scheduler: Scheduler
    dispatcher: Dispatcher
    redis: Redis | None = None  # REDIS_URL: shared with the other processes

    async def close(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.dispatcher.storage.close()  # a RedisStorage closes the Redis client too
        await self.db.close()


def connect_redis(settings: Settings) -> Redis | None:
    """The Redis client of this process when REDIS_URL is set (it connects on first use)."""
    if settings.redis_url is None:
        return None
    # Imported here, as in dialog_storage(): without REDIS_URL redis is never imported.
    from redis.asyncio import Redis

    return Redis.from_url(str(settings.redis_url), health_check_interval=30)


def scheduler_lease(settings: Settings, redis: Redis | None, bot_id: int) -> Lease:
    """Who runs the scheduled work: a Redis key with REDIS_URL, else a lock on a file beside
    the database (processes of one machine; `newsletter send` looks at it too)."""
    if redis is not None:
        return RedisLease(redis, f"cso-bot:{bot_id}:scheduler-leader", settings.leader_lease)
    return FileLease(leader_file(settings))


def leader_file(settings: Settings) -> Path:
    path = Path(settings.database_path)
    return path.with_name(path.name + ".leader")


def dialog_storage(db: Database, redis: Redis | None) -> tuple[BaseStorage, BaseEventIsolation]:
    """Where dialogs live and how one person's updates are kept one at a time: in Redis when
    several processes share the bot (any of them may receive the next update), else in the
    database and in this process."""
    if redis is None:
        return DatabaseStorage(db), event_isolation()
    from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

    keys = DefaultKeyBuilder(with_bot_id=True, with_destiny=True)
    return RedisStorage(redis, key_builder=keys), RedisEventIsolation(redis, key_builder=keys)


def build_newsletter(
    settings: Settings,
    plan: Plan,
    db: Database,
    i18n: I18n,
    clock: Clock,
    coordinators: Coordinators,
    notifier: Notifier,
    plans: Plans | None = None,
) -> Newsletter:
    """The newsletter with its settings, for the dispatcher and `cso-bot newsletter` alike."""
    return Newsletter(
        Issues(db, plan, clock, i18n, plans),
        Schedule(
            cron=settings.newsletter_cron,
            draft_days=settings.newsletter_draft_days,
            unapproved=settings.newsletter_unapproved,
        ),
        DeliveryOptions(concurrency=settings.newsletter_concurrency),
        coordinators,
        notifier,
    )


def build_dispatcher(
    settings: Settings,
    plan: Plan,
    db: Database,
    i18n: I18n,
    scheduler: Scheduler,
    clock: Clock | None = None,
    plans: Plans | None = None,
    redis: Redis | None = None,
) -> Dispatcher:
    clock = clock or Clock(settings.timezone)
    plans = plans or Plans((plan,))
    coordinators = Coordinators(db, settings.coordinator_ids)
    notifier = Notifier(db, i18n)
    storage, isolation = dialog_storage(db, redis)
    dp = Dispatcher(
        storage=storage,
        events_isolation=isolation,  # one update at a time per person
        # Long-lived objects every handler may ask for by name, each as narrow as its use.
        plan=plan,
        plans=plans,  # every plan loaded: reports and the archive of earlier plans
        db=db,
        # Search serves the current plan (`plan`, chosen by the clock at start-up).
        search=MeasureSearch(plan.measures),
        scheduler=scheduler,
        i18n=i18n,
        clock=clock,
        coordinators=coordinators,
        reminders=ReminderPlanner(scheduler, settings.reminder_hours, clock, plans),
        notifier=notifier,
        newsletter=build_newsletter(
            settings, plan, db, i18n, clock, coordinators, notifier, plans
        ),
        site=SiteLinks(settings.web_public_url),  # the public website, when it is published
    )
    # With several workers (Redis) another one may change a profile: no cache there.
    dp.update.outer_middleware(UserMiddleware(Profiles(db, ttl=0 if redis else PROFILE_SECONDS)))
    UserLocaleMiddleware(i18n).setup(dp)
    install_safeguards(dp)  # before the features: groups, odd ids, a database that cannot save
    dp.include_routers(*get_routers())
    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return dp


async def build_app(settings: Settings, clock: Clock | None = None) -> App:
    """Load the plans (refusing an invalid one), open the database and assemble the dispatcher;
    `plan` is the current one (covering today, else the latest begun)."""
    plans = load_plans(settings.plan_files)
    # The plan running today, by the clock the dispatcher gets (a test's fixed one included).
    today = (clock if isinstance(clock, Clock) else Clock(settings.timezone)).today()
    plan = plans.current(today)
    i18n = build_i18n()
    db = await Database.open(settings.database)
    scheduler = build_scheduler(settings.timezone)
    redis = connect_redis(settings)
    dispatcher = build_dispatcher(settings, plan, db, i18n, scheduler, clock, plans, redis)
    return App(settings, plan, db, i18n, scheduler, dispatcher, redis)


def build_bot(
    settings: Settings, session: BaseSession | None = None, redis: Redis | None = None
) -> Bot:
    """The bot with its one outgoing path; with `redis`, the send budget is the whole bot's,
    shared by every process (workers and the CLI) that sends as this bot."""
    token = settings.require_token()
    if session is None:
        session = BotAPISession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    shared = None
    if redis is not None:
        shared = SharedBudget(redis, token.split(":", 1)[0], 1.0 / settings.send_rate)
    # Every request of this bot, whoever makes it, goes one way: paced, ordered, retried.
    session.middleware(OutgoingPath(settings.send_rate, shared=shared))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


def outgoing_path(bot: Bot) -> OutgoingPath | None:
    """The outgoing path build_bot() registered on this bot's session (for its statistics)."""
    for middleware in bot.session.middleware._middlewares:
        if isinstance(middleware, OutgoingPath):
            return middleware
    return None


async def on_startup(
    bot: Bot,
    dispatcher: Dispatcher,
    i18n: I18n,
    coordinators: Coordinators,
    notifier: Notifier,
    lead_at_startup: bool = True,
) -> None:
    """Menus and the outbox; and, unless `cso-bot run` elects a scheduler leader instead
    (scheduler/leader.py), the scheduled work at once. The search index is built later, once
    updates are coming in (`warm_search_soon`)."""
    await set_commands(bot, i18n, await coordinators.all())
    if lead_at_startup:
        await start_scheduled_work(dispatcher, bot)
    notifier.start(bot)  # the outbox: what a previous process left unsent goes out now


def warm_search_soon(dp: Dispatcher, delay: float = WARM_SEARCH_AFTER) -> None:
    """Build the search index (loading its morphology) in a worker thread `delay` seconds from
    now. The run modes call it once polling has begun (or the webhook server listens): the
    build holds the GIL for a while, and the first getUpdates should not wait for it. A search
    that comes first builds the index itself, or waits for the build under way."""
    loop = asyncio.get_running_loop()
    search: MeasureSearch = dp["search"]
    loop.call_later(delay, loop.run_in_executor, None, search.warm)


async def start_scheduled_work(dp: Dispatcher, bot: Bot) -> None:
    """The scheduler and the jobs bound to this bot: reminders re-planned from the database;
    the newsletter's interrupted send resumed, its monthly job, hourly check and catch-up.
    Exactly one process runs this at a time: the scheduler leader."""
    scheduler: Scheduler = dp["scheduler"]
    # The jobs are bound before the scheduler runs: a follower's handlers may have planned
    # reminders meanwhile, which must find their jobs bound when they fire.
    await dp["reminders"].start(bot, dp["db"], dp["i18n"], dp["notifier"])
    dp["newsletter"].start(bot, scheduler)
    if not scheduler.running:
        scheduler.start()


async def on_shutdown(newsletter: Newsletter, notifier: Notifier, scheduler: Scheduler) -> None:
    await stop_scheduler(scheduler)
    await newsletter.stop()
    await notifier.stop()


async def stop_scheduler(scheduler: Scheduler, grace: float = 10.0) -> None:
    """No job starts any more, and the jobs running finish (up to `grace`) before the scheduler
    stops: APScheduler's asyncio executor would cancel them mid-way (a traceback, and a job
    half done), and another process may lead as soon as this one has stopped."""
    if not getattr(scheduler, "running", False):
        return
    pause = getattr(scheduler, "pause", None)
    if pause is not None:
        pause()
    # The asyncio executor keeps the tasks of running jobs here (APScheduler 3.x).
    running = {
        task
        for executor in getattr(scheduler, "_executors", {}).values()
        for task in getattr(executor, "_pending_futures", ())
        if isinstance(task, asyncio.Future) and not task.done()
    }
    if running:
        await asyncio.wait(running, timeout=grace)
    scheduler.shutdown(wait=False)


async def set_commands(bot: Bot, i18n: I18n, coordinators: Iterable[int] = ()) -> None:
    """The command menu per language, and coordinators' own per coordinator chat."""
    for locale in LOCALES:
        language = None if locale == i18n.default_locale else locale
        await bot.set_my_commands(
            [c.for_locale(i18n, locale) for c in GUEST_COMMANDS],
            scope=BotCommandScopeDefault(),
            language_code=language,
        )
    for coordinator in sorted(set(coordinators)):
        await offer_coordinator_menu(bot, i18n, coordinator, offer=True)
