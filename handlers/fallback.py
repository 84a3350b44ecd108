"""The last resort: unknown commands, stale buttons and messages the bot cannot read."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.reply import answer, echo
from handlers.routing import COMMAND_TEXT
from handlers.start import main_menu


async def on_unknown_command(message: Message) -> None:
    assert message.text is not None
    command = message.text.split(maxsplit=1)[0]
    await answer(
        message,
        _("I don't know the command {command}. Here is what I can do: /help").format(
            command=echo(command, 40)
        ),
        main_menu(),
    )


async def on_other_message(message: Message) -> None:
    # Stickers, photos, voice: nothing to search in, but never leave the user without an answer.
    await answer(message, _("I understand text only. Write a word to search the plan, or /help."))


async def on_stale_button(query: CallbackQuery) -> None:
    await query.answer(
        _("This button is out of date. Send /start to begin again."), show_alert=True
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_unknown_command, COMMAND_TEXT)
    router.message.register(on_other_message)
    router.callback_query.register(on_stale_button)
    return router
