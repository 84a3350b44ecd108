"""/language: Ukrainian or English, stored per user. Plan content stays in Ukrainian."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from db import Database
from handlers import commands
from handlers.callbacks import LanguageCb, MenuAction, MenuCb
from handlers.keyboards import button, grid, per_locale
from handlers.reply import answer, show
from handlers.start import main_menu

LANGUAGES = {"uk": "🇺🇦 Українська", "en": "🇬🇧 English"}


@per_locale
def language_keyboard() -> InlineKeyboardMarkup:
    return grid([button(name, LanguageCb(code=code)) for code, name in LANGUAGES.items()], 2)


def language_prompt() -> str:
    return "Оберіть мову інтерфейсу / Choose the interface language:"


async def cmd_language(message: Message) -> None:
    await answer(message, language_prompt(), language_keyboard())


async def on_language_menu(query: CallbackQuery) -> None:
    await show(query, language_prompt(), language_keyboard())


async def on_language(
    query: CallbackQuery,
    callback_data: LanguageCb,
    event_from_user: User,
    db: Database,
    i18n: I18n,
) -> None:
    async with db.transaction() as repo:
        await repo.users.set_language(event_from_user.id, callback_data.code)
    # The rest of this update already speaks the new language.
    i18n.current_locale = callback_data.code
    await show(query, _("Done: the interface is now in English."), main_menu())


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_language, commands.LANGUAGE.filter)
    router.callback_query.register(
        on_language_menu, MenuCb.filter(F.action == MenuAction.language)
    )
    router.callback_query.register(on_language, LanguageCb.filter(F.code.in_(LANGUAGES)))
    return router
