"""/events and /newevent: upcoming events, RSVPs with a waiting list, proposals and approval.

browse (the list and a card), rsvp (answering), propose (the proposal form), admin (the
coordinators' decisions, cancelling and moving), after (the report after an event); callbacks
and keyboards beside them.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers import commands
from handlers.events import admin, after, browse, propose, rsvp
from handlers.events.browse import cmd_start_event
from handlers.events.callbacks import COORDINATORS_ONLY, EventAction, EventCb
from handlers.reply import answer
from handlers.roles import (
    COORDINATOR,
    MEMBER,
    HasRole,
    ReportsForOrganisation,
    guard,
    refuse_non_coordinator,
)
from handlers.routing import TYPED
from scheduler.reminders import ReportEventCb

__all__ = ["build_router", "cmd_start_event", "on_not_member"]


async def on_not_member(message: Message) -> None:
    await answer(
        message,
        _(
            "Events and projects are added on behalf of a registered organisation. Register "
            "yours or ask to join it with /register."
        ),
    )


def build_router() -> Router:
    router = Router(name=__name__)

    coordinators = Router(name=f"{__name__}.coordinators")
    guard(coordinators, HasRole(COORDINATOR))
    coordinators.callback_query.register(
        admin.on_decide, EventCb.filter(F.action.in_({EventAction.approve, EventAction.reject}))
    )
    coordinators.callback_query.register(
        admin.on_drop_request, EventCb.filter(F.action == EventAction.drop)
    )
    coordinators.callback_query.register(
        admin.on_drop, EventCb.filter(F.action == EventAction.drop_yes)
    )
    coordinators.callback_query.register(
        admin.on_move_request, EventCb.filter(F.action == EventAction.move)
    )
    moving = StateFilter(admin.EventMove.starts, admin.EventMove.ends)
    coordinators.message.register(admin.on_move_cancel, commands.CANCEL.filter, moving)
    coordinators.message.register(admin.on_move_starts, StateFilter(admin.EventMove.starts), TYPED)
    coordinators.message.register(admin.on_move_ends, StateFilter(admin.EventMove.ends), TYPED)

    # Everyone else pressing a coordinator's button: a refusal, and nothing changes.
    others = Router(name=f"{__name__}.others")
    others.callback_query.register(
        refuse_non_coordinator, EventCb.filter(F.action.in_(COORDINATORS_ONLY))
    )

    proposers = Router(name=f"{__name__}.proposers")
    guard(proposers, HasRole(MEMBER, COORDINATOR))
    propose.register(proposers)

    reporters = Router(name=f"{__name__}.reporters")
    guard(reporters, ReportsForOrganisation())
    reporters.callback_query.register(after.on_report_event, ReportEventCb.filter())

    guests = Router(name=f"{__name__}.guests")
    guests.message.register(on_not_member, commands.NEWEVENT.filter)

    everyone = Router(name=f"{__name__}.everyone")
    everyone.message.register(browse.cmd_events, commands.EVENTS.filter)
    everyone.callback_query.register(browse.on_list, EventCb.filter(F.action == EventAction.list))
    everyone.callback_query.register(browse.on_open, EventCb.filter(F.action == EventAction.open))
    everyone.callback_query.register(
        rsvp.on_attend, EventCb.filter(F.action.in_({EventAction.go, EventAction.wait}))
    )
    everyone.callback_query.register(rsvp.on_leave, EventCb.filter(F.action == EventAction.leave))
    everyone.callback_query.register(rsvp.on_ics, EventCb.filter(F.action == EventAction.ics))

    router.include_routers(coordinators, others, proposers, reporters, guests, everyone)
    return router
