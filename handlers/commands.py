"""Every command the bot knows, named once for handlers, set_my_commands, /help and tests."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import BotCommand, BotCommandScopeChat
from aiogram.utils.i18n import I18n


def __(text: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return text


@dataclass(frozen=True, slots=True)
class BotCommandSpec:
    name: str
    description: str  # an English msgid, translated per language

    @property
    def filter(self) -> Command:
        return Command(self.name)

    @property
    def text(self) -> str:
        return f"/{self.name}"

    def for_locale(self, i18n: I18n, locale: str) -> BotCommand:
        return BotCommand(
            command=self.name, description=i18n.gettext(self.description, locale=locale)
        )


START = BotCommandSpec("start", __("What this bot is for, and the main menu"))
HELP = BotCommandSpec("help", __("The commands you can use"))
PLAN = BotCommandSpec("plan", __("Browse the plan: directions, tasks, measures"))
MEASURE = BotCommandSpec("measure", __("A measure by its code, e.g. /measure 1.1.1"))
SEARCH = BotCommandSpec("search", __("Find measures by words, e.g. /search forum"))
BODIES = BotCommandSpec("bodies", __("Measures by responsible body"))
FUNDING = BotCommandSpec("funding", __("Measures by funding source"))
LANGUAGE = BotCommandSpec("language", __("Мова / Language"))
CANCEL = BotCommandSpec("cancel", __("Leave the current dialog"))
SUBSCRIBE = BotCommandSpec("subscribe", __("Receive the monthly newsletter"))
UNSUBSCRIBE = BotCommandSpec("unsubscribe", __("Stop the monthly newsletter"))
REGISTER = BotCommandSpec("register", __("Register your organisation or join a registered one"))
ORGANISATIONS = BotCommandSpec("organisations", __("Organisations and join requests to approve"))
COORDINATORS = BotCommandSpec("coordinators", __("List, add and remove coordinators"))
ACTIVITY = BotCommandSpec("activity", __("Report an activity your organisation carried out"))
MYREPORTS = BotCommandSpec("myreports", __("Your organisation's reports and their status"))
PENDING = BotCommandSpec(
    "pending", __("Everything waiting for a coordinator: reports, events, organisations")
)
REPORT = BotCommandSpec("report", __("The plan's progress report: summary, chart, files"))
PROGRESS = BotCommandSpec("progress", __("How the plan's indicators are progressing"))
EVENTS = BotCommandSpec("events", __("Upcoming events: come, add to your calendar"))
NEWEVENT = BotCommandSpec("newevent", __("Propose an event (coordinators publish directly)"))
PROJECTS = BotCommandSpec("projects", __("Current projects of CSOs and the City Council"))
NEWPROJECT = BotCommandSpec("newproject", __("Add a current project"))
NEWSLETTERS = BotCommandSpec("newsletters", __("Past issues of the monthly newsletter"))
NEWSLETTER = BotCommandSpec(
    "newsletter", __("This month's newsletter: preview, introduction, approval")
)

# What anyone can do.
EVERYONE: tuple[BotCommandSpec, ...] = (
    START,
    PLAN,
    MEASURE,
    SEARCH,
    BODIES,
    FUNDING,
    PROGRESS,
    EVENTS,
    PROJECTS,
    SUBSCRIBE,
    UNSUBSCRIBE,
    NEWSLETTERS,
    REGISTER,
    LANGUAGE,
    HELP,
)
# What members of a verified organisation (and coordinators) can do on top.
MEMBER_ONLY: tuple[BotCommandSpec, ...] = (ACTIVITY, MYREPORTS, NEWEVENT, NEWPROJECT)
# What only coordinators can do.
COORDINATOR_ONLY: tuple[BotCommandSpec, ...] = (
    PENDING,
    REPORT,
    ORGANISATIONS,
    COORDINATORS,
    NEWSLETTER,
)

# Telegram's command menu cannot tell members from guests without a call per chat, so the
# default menu offers members' commands too; a guest who uses one is told how to register.
GUEST_COMMANDS: tuple[BotCommandSpec, ...] = EVERYONE + MEMBER_ONLY
COORDINATOR_COMMANDS: tuple[BotCommandSpec, ...] = GUEST_COMMANDS + COORDINATOR_ONLY


def commands_for(role: str) -> tuple[BotCommandSpec, ...]:
    """The commands /help lists for a role."""
    if role == "coordinator":
        return COORDINATOR_COMMANDS
    return GUEST_COMMANDS if role == "member" else EVERYONE


ALL_COMMANDS: frozenset[str] = frozenset(
    c.name for c in (*GUEST_COMMANDS, *COORDINATOR_COMMANDS, CANCEL)
)


async def offer_coordinator_menu(bot: Bot, i18n: I18n, chat_id: int, *, offer: bool) -> None:
    """Give (or take back) a coordinator's own command menu in their chat, in every language."""
    for locale in i18n.available_locales:
        language = None if locale == i18n.default_locale else locale
        scope = BotCommandScopeChat(chat_id=chat_id)
        try:
            if offer:
                await bot.set_my_commands(
                    [c.for_locale(i18n, locale) for c in COORDINATOR_COMMANDS],
                    scope=scope,
                    language_code=language,
                )
            else:
                await bot.delete_my_commands(scope=scope, language_code=language)
        except TelegramBadRequest:
            # A chat Telegram does not know yet (never opened the bot): their menu waits.
            return
