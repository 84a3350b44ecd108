"""The one place the bot is assembled: used by `cso-bot run`, `cso-bot chat` and the tests."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BotCommandScopeDefault
from aiogram.utils.i18n import I18n

from bot.config import Settings
from bot.i18n import LOCALES, build_i18n
from bot.middlewares import UserLocaleMiddleware, UserMiddleware
from bot.outgoing import OutgoingPath
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
from scheduler.newsletter.delivery import DeliveryOptions
from scheduler.newsletter.issue import Issues, Schedule
from scheduler.newsletter.job import Newsletter
from scheduler.notifier import Notifier
from scheduler.reminders import ReminderPlanner

log = logging.getLogger(__name__)


@dataclass
class App:
    """Everything long-lived, built once at start-up and closed once at shutdown."""

    settings: Settings
    plan: Plan
    db: Database
    i18n: I18n
    scheduler: Scheduler
    dispatcher: Dispatcher

    async def close(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.dispatcher.storage.close()
        await self.db.close()


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
        DeliveryOptions(
            rate=settings.newsletter_rate, concurrency=settings.newsletter_concurrency
        ),
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
) -> Dispatcher:
    clock = clock or Clock(settings.timezone)
    plans = plans or Plans((plan,))
    coordinators = Coordinators(db, settings.coordinator_ids)
    notifier = Notifier(db, i18n)
    dp = Dispatcher(
        storage=DatabaseStorage(db),
        events_isolation=event_isolation(),  # one update at a time per person
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
    dp.update.outer_middleware(UserMiddleware())
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
    dispatcher = build_dispatcher(settings, plan, db, i18n, scheduler, clock, plans)
    return App(settings, plan, db, i18n, scheduler, dispatcher)


def build_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    # Every request of this bot, whoever makes it, goes one way: paced, ordered, retried.
    session.middleware(OutgoingPath(settings.send_rate))
    return Bot(
        settings.require_token(),
        session=session,
        default=DefaultBotProperties(parse_mode="HTML"),
    )


async def on_startup(
    bot: Bot,
    db: Database,
    scheduler: Scheduler,
    i18n: I18n,
    coordinators: Coordinators,
    reminders: ReminderPlanner,
    newsletter: Newsletter,
    search: MeasureSearch,
    notifier: Notifier,
) -> None:
    """Menus, the scheduler, and the jobs bound to this bot: reminders re-planned from the
    database; the newsletter's interrupted send resumed, its monthly job, hourly check and
    catch-up. The search index (and its morphology) is built in a worker thread meanwhile."""
    asyncio.get_running_loop().run_in_executor(None, search.warm)
    await set_commands(bot, i18n, await coordinators.all())
    if not scheduler.running:
        scheduler.start()
    await reminders.start(bot, db, i18n, notifier)
    newsletter.start(bot, scheduler)
    notifier.start(bot)  # the outbox: what a previous process left unsent goes out now


async def on_shutdown(newsletter: Newsletter, notifier: Notifier) -> None:
    await newsletter.stop()
    await notifier.stop()


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
