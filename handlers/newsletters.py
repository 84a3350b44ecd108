"""/newsletters: the public archive of the monthly newsletter, and the menu's "📰 Newsletter"."""

from __future__ import annotations

from datetime import UTC
from enum import StrEnum

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n

from db import Database
from formats.dates import month_label
from handlers import commands
from handlers.callbacks import MenuAction, MenuCb
from handlers.keyboards import button, grid
from handlers.reply import answer, show
from handlers.subscription import unsubscribe_reply
from plan.clock import Clock

ARCHIVE_SHOWN = 24


class MenuChoice(StrEnum):
    """What a button of the public newsletter menu does."""

    menu = "menu"
    sub = "sub"
    unsub = "unsub"
    read = "read"  # an issue, by month


class NewsletterMenuCb(CallbackData, prefix="nlm"):
    """The public newsletter menu: the archive, subscribing, or reading an issue by month."""

    action: MenuChoice
    month: str = ""


def _archive_keyboard(months: list[str]) -> InlineKeyboardMarkup:
    locale = get_i18n().current_locale
    buttons = [
        button(
            f"📰 {month_label(month, locale)}",
            NewsletterMenuCb(action=MenuChoice.read, month=month),
        )
        for month in months
    ]
    buttons += [
        button(_("🔔 Subscribe"), NewsletterMenuCb(action=MenuChoice.sub)),
        button(_("🔕 Unsubscribe"), NewsletterMenuCb(action=MenuChoice.unsub)),
        button(_("⬅ Main menu"), MenuCb(action=MenuAction.main)),
    ]
    # Two months a row: «листопад 2024» is too long for three on a phone.
    return grid(buttons, *([2] * (len(months) // 2)), *([1] if len(months) % 2 else []), 2, 1)


async def _archive(db: Database) -> tuple[str, InlineKeyboardMarkup]:
    async with db.read() as repo:
        issues = await repo.newsletters.sent_issues(ARCHIVE_SHOWN)
    if issues:
        text = _("📰 <b>The monthly newsletter</b>\nPast issues: tap a month to read it.")
    else:
        text = _("📰 <b>The monthly newsletter</b>\nNo issue has gone out yet.")
    return text, _archive_keyboard([i.month for i in issues])


async def cmd_newsletters(message: Message, db: Database) -> None:
    text, keyboard = await _archive(db)
    await answer(message, text, keyboard)


async def on_menu(query: CallbackQuery, db: Database) -> None:
    text, keyboard = await _archive(db)
    await show(query, text, keyboard)


async def on_read(query: CallbackQuery, callback_data: NewsletterMenuCb, db: Database) -> None:
    async with db.read() as repo:
        issue = await repo.newsletters.by_month(callback_data.month)
    # Only issues that went out are public: a draft's month in a forged button shows nothing.
    if issue is None or issue.status != "sent" or query.message is None or query.bot is None:
        await query.answer(_("There is no such issue."), show_alert=True)
        return
    await query.answer()
    for part in issue.parts:
        await query.bot.send_message(query.message.chat.id, part)


async def on_subscription(
    query: CallbackQuery,
    callback_data: NewsletterMenuCb,
    db: Database,
    event_from_user: User,
    clock: Clock,
) -> None:
    now = clock.now().astimezone(UTC)
    async with db.transaction() as repo:
        if callback_data.action is MenuChoice.sub:
            chat_id = query.message.chat.id if query.message else event_from_user.id
            await repo.subscribers.subscribe(event_from_user.id, chat_id, now)
            text = _(
                "You are subscribed to the monthly newsletter. To stop it, send /unsubscribe."
            )
        else:
            text = unsubscribe_reply(await repo.subscribers.unsubscribe(event_from_user.id, now))
    await query.answer(text, show_alert=True)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_newsletters, commands.NEWSLETTERS.filter)
    router.callback_query.register(on_menu, NewsletterMenuCb.filter(F.action == MenuChoice.menu))
    router.callback_query.register(on_read, NewsletterMenuCb.filter(F.action == MenuChoice.read))
    router.callback_query.register(
        on_subscription, NewsletterMenuCb.filter(F.action.in_({MenuChoice.sub, MenuChoice.unsub}))
    )
    return router
