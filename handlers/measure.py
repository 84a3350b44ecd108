"""/measure CODE [YEAR]: a measure's card by its code or by the number printed in the document,
in the current plan or, with a year (or a plan id), in the plan running then."""

from __future__ import annotations

import re

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from formats.dates import periods
from formats.site import SiteLinks
from handlers import commands
from handlers.plan_views import (
    back_to_plan,
    measure_list,
    measure_view,
    measures_keyboard,
    other_plans,
)
from handlers.reply import answer, echo
from plan import Plan
from plan.clock import Clock
from plan.codes import measures_by_code, nearest_measures, normalize_code, split_plan_choice
from plan.plans import Plans

_CODE_LIKE = re.compile(r"^\d{1,3}(\.\d{1,3}){0,3}$")


async def cmd_measure(
    message: Message,
    command: CommandObject,
    plan: Plan,
    plans: Plans,
    clock: Clock,
    site: SiteLinks | None = None,
) -> None:
    raw, choice = split_plan_choice(command.args or "", [p.id for p in plans.all])
    at: int | None = None
    if choice is not None:
        chosen = plans.by_id(choice) or (plans.for_year(int(choice)) if choice.isdigit() else None)
        if chosen is None:
            text = _("No loaded plan runs in {choice}. The plans: {periods}.").format(
                choice=echo(choice, 40),
                periods=periods(plans.spans(), get_i18n().current_locale),
            )
            await answer(message, text, measures_keyboard((), back_to_plan()))
            return
        if chosen is not plan:
            plan, at = chosen, plans.index(chosen)
    if not raw:
        await answer(
            message,
            _(
                "Which measure? Send its code, e.g. <code>/measure 1.1.1</code>, "
                "or browse the plan."
            ),
            measures_keyboard((), back_to_plan()),
        )
        return
    code = normalize_code(raw)
    printed = measures_by_code(plan, code)
    if len(printed) == 1:
        measure = printed[0]
        view = measure_view(
            plan,
            measure,
            printed_note=measure.code != code,
            site=site,
            private=message.chat.type == "private",
            at=at,
            others=other_plans(plans, plan),
            today=clock.today(),
        )
        await answer(message, *view)
        return
    if printed:
        text = "\n".join(
            [
                _("In the document, number {code} is printed for {n} measures:").format(
                    code=code, n=len(printed)
                ),
                *measure_list(printed),
            ]
        )
        await answer(message, text, measures_keyboard(printed, back_to_plan(at), at=at))
        return
    await answer(message, *unknown_code_reply(plan, raw, at))


def unknown_code_reply(
    plan: Plan, raw: str, at: int | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    code = normalize_code(raw)
    if task := plan.task(code):
        text = "\n".join(
            [
                _("{code} is a task: «{title}». Its measures:").format(
                    code=task.code, title=echo(task.title)
                ),
                *measure_list(task.measures),
            ]
        )
        return text, measures_keyboard(task.measures, back_to_plan(at), at=at)
    if direction := plan.direction(code):
        measures = [m for t in direction.tasks for m in t.measures]
        text = _("{code} is a strategic direction. Open one of its measures:").format(code=code)
        return text, measures_keyboard(measures, back_to_plan(at), at=at)
    lines = [_("There is no measure with the code «{code}».").format(code=echo(raw, 40))]
    if not _CODE_LIKE.match(code):
        lines.append(_("A measure code looks like <code>1.1.1</code>: direction, task, measure."))
    candidates = nearest_measures(plan, code)
    if candidates:
        lines.append(_("The nearest codes:"))
        lines += measure_list(candidates)
    else:
        lines.append(_("Browse the plan to find the measure."))
    return "\n".join(lines), measures_keyboard(candidates, back_to_plan(at), at=at)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_measure, commands.MEASURE.filter)
    return router
