"""The one place the bot is assembled: used by `cso-bot run`, `cso-bot chat` and the tests."""

from __future__ import annotations

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
from bot.newsletter import start_newsletters, stop_newsletters
from bot.outgoing import OutgoingPath
from bot.safeguards import event_isolation, install_safeguards
from bot.storage import DatabaseStorage
from db import Database
from db.coordinators import Coordinators
from handlers import get_routers
from handlers.commands import GUEST_COMMANDS, offer_coordinator_menu
from plan import Plan, load_plan
from plan.clock import Clock
from plan.search import MeasureSearch
from scheduler import Scheduler, build_scheduler
from scheduler.delivery import DeliveryRunner
from scheduler.newsletter_job import start_newsletter_schedule
from scheduler.notifier import Notifier
from scheduler.reminders import ReminderPlanner, start_reminders

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


def build_dispatcher(
    settings: Settings,
    plan: Plan,
    db: Database,
    i18n: I18n,
    scheduler: Scheduler,
    clock: Clock | None = None,
) -> Dispatcher:
    clock = clock or Clock(settings.timezone)
    dp = Dispatcher(
        storage=DatabaseStorage(db),
        events_isolation=event_isolation(),
        # Long-lived objects every handler may ask for by name.
        config=settings,
        plan=plan,
        db=db,
        search=MeasureSearch(plan.measures),
        scheduler=scheduler,
        i18n=i18n,
        deliveries=DeliveryRunner(),  # newsletters being sent by this process
        clock=clock,
        coordinators=Coordinators(db, settings.coordinator_ids),
        reminders=ReminderPlanner(scheduler, settings.reminder_hours, clock),
        notifier=Notifier(db, i18n),
    )
    dp.update.outer_middleware(UserMiddleware())
    UserLocaleMiddleware(i18n).setup(dp)
    install_safeguards(dp)  # before the features: groups, odd ids, a database that cannot save
    dp.include_routers(*get_routers())
    dp.startup.register(on_startup)
    dp.startup.register(start_newsletters)
    dp.startup.register(start_reminders)  # re-plans event reminders from the database
    # The monthly issue: its cron job, an hourly check for drafts, a catch-up soon after start.
    dp.startup.register(start_newsletter_schedule)
    dp.shutdown.register(stop_newsletters)
    return dp


async def build_app(settings: Settings, clock: Clock | None = None) -> App:
    """Load the plan (refusing an invalid one), open the database and assemble the dispatcher."""
    plan = load_plan(settings.plan_file)
    i18n = build_i18n()
    db = await Database.open(settings.database_path)
    scheduler = build_scheduler(settings.timezone)
    dispatcher = build_dispatcher(settings, plan, db, i18n, scheduler, clock)
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
    bot: Bot, config: Settings, scheduler: Scheduler, i18n: I18n, db: Database
) -> None:
    async with db.read() as repo:
        added = await repo.coordinators.all()
    await set_commands(bot, config, i18n, added)
    if not scheduler.running:
        scheduler.start()


async def set_commands(
    bot: Bot, settings: Settings, i18n: I18n, added_coordinators: Iterable[int] = ()
) -> None:
    """The command menu per language, and coordinators' own per coordinator chat."""
    for locale in LOCALES:
        language = None if locale == i18n.default_locale else locale
        await bot.set_my_commands(
            [c.for_locale(i18n, locale) for c in GUEST_COMMANDS],
            scope=BotCommandScopeDefault(),
            language_code=language,
        )
    for coordinator in sorted({*settings.coordinator_ids, *added_coordinators}):
        await offer_coordinator_menu(bot, i18n, coordinator, offer=True)
