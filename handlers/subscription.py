"""/subscribe and /unsubscribe for the monthly newsletter, and its one-tap unsubscribe button."""

from __future__ import annotations

from datetime import UTC

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _

from db import Database, SubscribeResult, UnsubscribeResult
from handlers import commands
from handlers.reply import answer
from handlers.routing import Inline
from plan.clock import Clock
from scheduler.newsletter.keyboards import UnsubscribeCb


# Marked for extraction; newsletters are composed outside handlers, so the caller translates it.
async def cmd_subscribe(
    message: Message, event_from_user: User, db: Database, clock: Clock
) -> None:
    async with db.single_statement() as repo:
        result = await repo.subscribers.subscribe(
            event_from_user.id, message.chat.id, clock.now().astimezone(UTC)
        )
    if result is SubscribeResult.already:
        text = _("You are already subscribed to the monthly newsletter.")
    elif result is SubscribeResult.reactivated:
        text = _(
            "Welcome back! You are subscribed to the monthly newsletter again. "
            "To stop it, send /unsubscribe."
        )
    else:
        text = _(
            "Done: once a month I will send you the newsletter about the partnership plan: "
            "events, projects and indicators met. To stop it, send /unsubscribe."
        )
    await answer(message, text)


def unsubscribe_reply(result: UnsubscribeResult) -> str:
    if result is UnsubscribeResult.never:
        return _(
            "You are not subscribed to the newsletter, so there is nothing to cancel. "
            "To receive it, send /subscribe."
        )
    if result is UnsubscribeResult.already:
        return _(
            "You have already unsubscribed. To receive the newsletter again, send /subscribe."
        )
    return _(
        "Done: you will not receive the newsletter any more. To subscribe again, send /subscribe."
    )


async def cmd_unsubscribe(
    message: Message, event_from_user: User, db: Database, clock: Clock
) -> None:
    async with db.single_statement() as repo:
        result = await repo.subscribers.unsubscribe(
            event_from_user.id, clock.now().astimezone(UTC)
        )
    await answer(message, unsubscribe_reply(result))


async def on_unsubscribe_button(
    query: CallbackQuery, event_from_user: User, db: Database, clock: Clock
) -> None:
    # Only the presser: the callback names nobody, so a forged one cannot reach anyone else.
    async with db.single_statement() as repo:
        result = await repo.subscribers.unsubscribe(
            event_from_user.id, clock.now().astimezone(UTC)
        )
    await query.answer(unsubscribe_reply(result), show_alert=True)


def build_router() -> Router:
    router = Router(name=__name__)
    private = Inline(F.chat.type == ChatType.PRIVATE)
    router.message.register(cmd_subscribe, commands.SUBSCRIBE.filter, private)
    router.message.register(cmd_unsubscribe, commands.UNSUBSCRIBE.filter, private)
    router.callback_query.register(on_unsubscribe_button, UnsubscribeCb.filter())
    return router
