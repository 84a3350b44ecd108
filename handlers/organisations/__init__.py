"""/organisations: the coordinators' review of registrations and join requests."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers import commands
from handlers.organisations import review
from handlers.organisations.keyboards import OrgReviewCb
from handlers.reply import answer
from handlers.roles import COORDINATOR, HasRole, guard, refuse_non_coordinator

__all__ = ["OrgReviewCb", "build_router", "on_not_coordinator"]


async def on_not_coordinator(message: Message) -> None:
    await answer(message, _("This is for coordinators only."))


async def on_forged(query: CallbackQuery) -> None:
    await refuse_non_coordinator(query)


def build_router() -> Router:
    router = Router(name=__name__)
    desk = Router(name=f"{__name__}.desk")
    guard(desk, HasRole(COORDINATOR))
    desk.message.register(review.cmd_organisations, commands.ORGANISATIONS.filter)
    desk.callback_query.register(review.on_review, OrgReviewCb.filter())
    # Whoever gets past the desk is not a coordinator: refuse clearly, change nothing. (A
    # router's own handlers run before its sub-routers', so the refusals are a sub-router too.)
    others = Router(name=f"{__name__}.others")
    others.message.register(on_not_coordinator, commands.ORGANISATIONS.filter)
    others.callback_query.register(on_forged, OrgReviewCb.filter())
    router.include_routers(desk, others)
    return router
