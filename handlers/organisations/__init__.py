"""/organisations: the coordinators' review of registrations and join requests, and their care
of verified organisations (members, name and contact, deactivation)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message

from handlers import commands
from handlers.organisations import manage, review
from handlers.organisations.keyboards import ManageAction, OrgManageCb, OrgReviewCb
from handlers.roles import COORDINATOR, HasRole, guard, refuse_non_coordinator
from handlers.routing import TEXT, TYPED

__all__ = ["OrgManageCb", "OrgReviewCb", "build_router", "on_not_coordinator"]


async def on_not_coordinator(message: Message) -> None:
    await refuse_non_coordinator(message)


async def on_forged(query: CallbackQuery) -> None:
    await refuse_non_coordinator(query)


def build_router() -> Router:
    router = Router(name=__name__)
    desk = Router(name=f"{__name__}.desk")
    guard(desk, HasRole(COORDINATOR))
    desk.message.register(review.cmd_organisations, commands.ORGANISATIONS.filter)
    desk.callback_query.register(review.on_review, OrgReviewCb.filter())
    refusing = StateFilter(review.RefusalForm.reason)
    desk.message.register(review.on_reason_cancel, commands.CANCEL.filter, refusing)
    desk.message.register(review.on_reason, refusing, TEXT, TYPED)
    desk.callback_query.register(
        manage.on_deactivate, OrgManageCb.filter(F.action == ManageAction.deactivate_yes)
    )
    desk.callback_query.register(
        manage.on_reactivate, OrgManageCb.filter(F.action == ManageAction.reactivate)
    )
    desk.callback_query.register(manage.on_manage, OrgManageCb.filter())
    editing = StateFilter(manage.OrgEditForm.value)
    desk.message.register(manage.on_edit_cancel, commands.CANCEL.filter, editing)
    desk.message.register(manage.on_value, editing, TEXT, TYPED)
    # Whoever gets past the desk is not a coordinator: refuse clearly, change nothing. (A
    # router's own handlers run before its sub-routers', so the refusals are a sub-router too.)
    others = Router(name=f"{__name__}.others")
    others.message.register(on_not_coordinator, commands.ORGANISATIONS.filter)
    others.callback_query.register(on_forged, OrgReviewCb.filter())
    others.callback_query.register(on_forged, OrgManageCb.filter())
    router.include_routers(desk, others)
    return router
