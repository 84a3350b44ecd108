"""/plan: directions → tasks → measures, editing one message, with a way back at every level."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from formats.site import SiteLinks
from handlers import commands
from handlers.callbacks import MenuAction, MenuCb, PlanCb, PlanLevel
from handlers.plan_views import direction_view, measure_view, plan_view, task_view
from handlers.reply import answer, show
from plan import Plan


async def cmd_plan(message: Message, plan: Plan) -> None:
    await answer(message, *plan_view(plan))


async def on_plan(query: CallbackQuery, plan: Plan) -> None:
    await show(query, *plan_view(plan))


async def on_plan_node(
    query: CallbackQuery, callback_data: PlanCb, plan: Plan, site: SiteLinks | None = None
) -> None:
    code = callback_data.code
    view = None
    if callback_data.level is PlanLevel.direction and (direction := plan.direction(code)):
        view = direction_view(direction)
    elif callback_data.level is PlanLevel.task and (task := plan.task(code)):
        view = task_view(task)
    elif callback_data.level is PlanLevel.measure and (measure := plan.measure(code)):
        private = query.message is None or query.message.chat.type == "private"
        view = measure_view(plan, measure, site=site, private=private)
    if view is None:
        # A button from an older plan, or a forged one: say so instead of failing silently.
        await query.answer(_("This button is out of date. Open /plan again."), show_alert=True)
        return
    await show(query, *view)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_plan, commands.PLAN.filter)
    router.callback_query.register(on_plan, MenuCb.filter(F.action == MenuAction.plan))
    router.callback_query.register(on_plan, PlanCb.filter(F.level == PlanLevel.directions))
    router.callback_query.register(on_plan_node, PlanCb.filter(F.level != PlanLevel.directions))
    return router
