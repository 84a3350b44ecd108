"""/coordinators: managing who coordinates, beside the settings' fixed coordinators."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter

from handlers import commands
from handlers.coordinators import manage
from handlers.coordinators.keyboards import CoordAction, CoordCb
from handlers.roles import COORDINATOR, HasRole, guard, refuse_non_coordinator
from handlers.routing import TEXT, TYPED, Inline

__all__ = ["CoordCb", "build_router"]


def build_router() -> Router:
    router = Router(name=__name__)
    desk = Router(name=f"{__name__}.desk")
    guard(desk, HasRole(COORDINATOR))
    adding = StateFilter(manage.CoordinatorForm.user_id)
    desk.message.register(manage.cmd_coordinators, commands.COORDINATORS.filter)
    desk.callback_query.register(manage.on_add, CoordCb.filter(F.action == CoordAction.add))
    desk.callback_query.register(
        manage.on_add_cancel, CoordCb.filter(F.action == CoordAction.cancel)
    )
    desk.message.register(manage.on_add_cancel, commands.CANCEL.filter, adding)
    # Telegram's «choose a person» answer and a forwarded message name the person; so does an id.
    desk.message.register(manage.on_user_id, adding, Inline(F.users_shared))
    desk.message.register(manage.on_user_id, adding, Inline(F.forward_origin))
    desk.message.register(manage.on_user_id, adding, TEXT, TYPED)
    desk.callback_query.register(manage.on_remove, CoordCb.filter(F.action == CoordAction.remove))
    desk.callback_query.register(
        manage.on_remove_confirmed, CoordCb.filter(F.action == CoordAction.remove_yes)
    )
    desk.callback_query.register(
        manage.on_remove_declined, CoordCb.filter(F.action == CoordAction.remove_no)
    )
    others = Router(name=f"{__name__}.others")
    others.message.register(refuse_non_coordinator, commands.COORDINATORS.filter)
    others.callback_query.register(refuse_non_coordinator, CoordCb.filter())
    router.include_routers(desk, others)
    return router
