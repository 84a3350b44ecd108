"""/measure CODE: a measure's card by its code or by the number printed in the document."""

from __future__ import annotations

import re

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from formats.site import SiteLinks
from handlers import commands
from handlers.plan_views import back_to_plan, measure_list, measure_view, measures_keyboard
from handlers.reply import answer, echo
from plan import Plan
from plan.codes import measures_by_code, nearest_measures, normalize_code

_CODE_LIKE = re.compile(r"^\d{1,3}(\.\d{1,3}){0,3}$")


async def cmd_measure(
    message: Message, command: CommandObject, plan: Plan, site: SiteLinks | None = None
) -> None:
    if not command.args:
        await answer(
            message,
            _(
                "Which measure? Send its code, e.g. <code>/measure 1.1.1</code>, "
                "or browse the plan."
            ),
            measures_keyboard((), back_to_plan()),
        )
        return
    code = normalize_code(command.args)
    printed = measures_by_code(plan, code)
    if len(printed) == 1:
        measure = printed[0]
        view = measure_view(
            plan,
            measure,
            printed_note=measure.code != code,
            site=site,
            private=message.chat.type == "private",
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
        await answer(message, text, measures_keyboard(printed, back_to_plan()))
        return
    await answer(message, *unknown_code_reply(plan, command.args))


def unknown_code_reply(plan: Plan, raw: str) -> tuple[str, InlineKeyboardMarkup]:
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
        return text, measures_keyboard(task.measures, back_to_plan())
    if direction := plan.direction(code):
        measures = [m for t in direction.tasks for m in t.measures]
        text = _("{code} is a strategic direction. Open one of its measures:").format(code=code)
        return text, measures_keyboard(measures, back_to_plan())
    lines = [_("There is no measure with the code «{code}».").format(code=echo(raw, 40))]
    if not _CODE_LIKE.match(code):
        lines.append(_("A measure code looks like <code>1.1.1</code>: direction, task, measure."))
    candidates = nearest_measures(plan, code)
    if candidates:
        lines.append(_("The nearest codes:"))
        lines += measure_list(candidates)
    else:
        lines.append(_("Browse the plan to find the measure."))
    return "\n".join(lines), measures_keyboard(candidates, back_to_plan())


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_measure, commands.MEASURE.filter)
    return router
