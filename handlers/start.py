"""/start, /help and the main menu."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from handlers import commands, events
from handlers.callbacks import MenuAction, MenuCb
from handlers.events.callbacks import EventAction, EventCb
from handlers.forms import offer_kept
from handlers.keyboards import button, grid, per_locale
from handlers.newsletters import MenuChoice, NewsletterMenuCb
from handlers.reply import answer, show


@per_locale
def main_menu() -> InlineKeyboardMarkup:
    """The main menu, the same for everyone who reads a language: built once per locale."""
    buttons = [
        button(text, MenuCb(action=action))
        for text, action in (
            (_("📋 The plan"), MenuAction.plan),
            (_("🔎 Search"), MenuAction.search),
            (_("🏛 Who is responsible"), MenuAction.bodies),
            (_("💰 Funding"), MenuAction.funding),
            (_("🌐 Мова / Language"), MenuAction.language),
            (_("❓ Help"), MenuAction.help),
        )
    ]
    buttons.append(button(_("📅 Events"), EventCb(action=EventAction.list)))
    buttons.append(button(_("📰 Newsletter"), NewsletterMenuCb(action=MenuChoice.menu)))
    return grid(buttons, 2)


def welcome_text() -> str:
    return "\n".join(
        [
            _("<b>Vinnytsia's partnership plan between CSOs and the City Council</b>"),
            _(
                "I answer questions about the plan for 2023–2024 (Annex 4 of the Partnership "
                "Strategy): its measures, who is responsible, the terms, funding and expected "
                "results."
            ),
            _("Choose below, or just write what you are looking for, e.g. «форум»."),
        ]
    )


def help_text(role: str) -> str:
    lines = [_("<b>What I can do</b>"), ""]
    lines += [f"{c.text} — {_(c.description)}" for c in commands.commands_for(role)]
    lines += ["", _("Any other text I search for in the plan.")]
    return "\n".join(lines)


# The main menu offers back any form the person left mid-way (the command that led here left it).
async def cmd_start(message: Message, state: FSMContext) -> None:
    await answer(message, welcome_text(), main_menu())
    await offer_kept(message, state)


async def cmd_help(message: Message, role: str, state: FSMContext) -> None:
    await answer(message, help_text(role), main_menu())
    await offer_kept(message, state)


async def cmd_cancel_outside(message: Message, state: FSMContext) -> None:
    """/cancel with no dialog open: say so, and offer the drafts kept from left forms."""
    await answer(message, _("There is no dialog to leave. The main menu: /start"))
    await offer_kept(message, state)


async def on_menu(query: CallbackQuery, state: FSMContext) -> None:
    await show(query, welcome_text(), main_menu())
    if isinstance(query.message, Message):
        await offer_kept(query.message, state)


async def on_help(query: CallbackQuery, role: str) -> None:
    await show(query, help_text(role), main_menu())


def build_router() -> Router:
    router = Router(name=__name__)
    # /start event_<id> (a link from a calendar entry) opens that event's card instead.
    router.message.register(
        events.cmd_start_event, CommandStart(deep_link=True, magic=F.args.regexp(r"^event_\d+$"))
    )
    router.message.register(cmd_start, commands.START.filter)
    router.message.register(cmd_help, commands.HELP.filter)
    router.message.register(cmd_cancel_outside, commands.CANCEL.filter, StateFilter(None))
    router.callback_query.register(on_menu, MenuCb.filter(F.action == MenuAction.main))
    router.callback_query.register(on_help, MenuCb.filter(F.action == MenuAction.help))
    return router
