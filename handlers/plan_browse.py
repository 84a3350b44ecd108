"""/plan: directions → tasks → measures, editing one message, with a way back at every level;
the current plan first, the other loaded plans as an archive."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from formats.site import SiteLinks
from handlers import commands
from handlers.callbacks import MenuAction, MenuCb, PlanCb, PlanLevel
from handlers.plan_views import (
    direction_view,
    measure_view,
    other_plans,
    plan_view,
    task_view,
)
from handlers.reply import answer, show
from plan import Plan
from plan.clock import Clock
from plan.plans import Plans


async def cmd_plan(message: Message, plan: Plan, plans: Plans, clock: Clock) -> None:
    await answer(message, *plan_view(plan, clock.today(), others=other_plans(plans, plan)))


async def on_plan(query: CallbackQuery, plan: Plan, plans: Plans, clock: Clock) -> None:
    await show(query, *plan_view(plan, clock.today(), others=other_plans(plans, plan)))


async def on_plan_root(
    query: CallbackQuery, callback_data: PlanCb, plan: Plan, plans: Plans, clock: Clock
) -> None:
    shown = plans.at(callback_data.plan, plan)
    if shown is None:
        await query.answer(_("This button is out of date. Open /plan again."), show_alert=True)
        return
    if shown is plan:
        await on_plan(query, plan, plans, clock)
        return
    await show(query, *plan_view(shown, clock.today(), at=callback_data.plan))


async def on_plan_node(
    query: CallbackQuery,
    callback_data: PlanCb,
    plan: Plan,
    plans: Plans,
    clock: Clock,
    site: SiteLinks | None = None,
) -> None:
    code, at = callback_data.code, callback_data.plan
    shown = plans.at(at, plan)
    if shown is plan:
        at = None  # the current plan's own buttons, whichever way they were reached
    view = None
    if shown is None:
        pass
    elif callback_data.level is PlanLevel.direction and (direction := shown.direction(code)):
        view = direction_view(direction, at)
    elif callback_data.level is PlanLevel.task and (task := shown.task(code)):
        view = task_view(task, at)
    elif callback_data.level is PlanLevel.measure and (measure := shown.measure(code)):
        private = query.message is None or query.message.chat.type == "private"
        view = measure_view(
            shown,
            measure,
            site=site,
            private=private,
            at=at,
            others=other_plans(plans, shown),
            today=clock.today(),
        )
    if view is None:
        # A button from an older plan, or a forged one: say so instead of failing silently.
        await query.answer(_("This button is out of date. Open /plan again."), show_alert=True)
        return
    await show(query, *view)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_plan, commands.PLAN.filter)
    router.callback_query.register(on_plan, MenuCb.filter(F.action == MenuAction.plan))
    router.callback_query.register(on_plan_root, PlanCb.filter(F.level == PlanLevel.directions))
    router.callback_query.register(on_plan_node, PlanCb.filter(F.level != PlanLevel.directions))
    return router
