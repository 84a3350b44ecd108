"""Search: /search TEXT, and any plain text sent outside a dialog."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandObject, StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers import commands
from handlers.callbacks import GlossaryCb, GlossaryKind, MenuAction, MenuCb
from handlers.plan_views import (
    _button,
    back_to_menu,
    back_to_plan,
    measure_list,
    measures_keyboard,
    years,
)
from handlers.reply import answer, echo, show
from handlers.routing import TEXT, TYPED
from plan import Plan
from plan.plans import Plans
from plan.search import MeasureSearch

RESULTS_SHOWN = 8


def search_prompt() -> str:
    return _(
        "Write what you are looking for, e.g. <i>форум</i>, <i>кава</i>, <i>ваучер</i> or "
        "<i>офіс взаємодії</i>, or use <code>/search words</code>."
    )


def searched_in(plan: Plan, plans: Plans) -> list[str]:
    """Which plan was searched, when more than one is loaded (the others: /measure CODE YEAR)."""
    if len(plans.all) < 2:
        return []
    return [
        _("Searched in the current plan, {years}; an earlier plan: /plan.").format(
            years=years(plan)
        )
    ]


async def reply_with_results(
    message: Message, search: MeasureSearch, query: str, plan: Plan, plans: Plans
) -> None:
    """The measures of the current plan (`search` indexes `plan`) that match `query`."""
    hits = search.search(query, limit=RESULTS_SHOWN)
    heading = _("Found for «{query}»:").format(query=echo(query))
    if not hits:
        # A typo ("фрум"): answer what the nearest words of the plan find, and say so.
        suggestion = search.suggest(query)
        if suggestion is not None:
            hits = search.search(suggestion, limit=RESULTS_SHOWN)
            heading = _("Nothing found for «{query}». Did you mean «{suggestion}»?").format(
                query=echo(query), suggestion=echo(suggestion)
            )
    if not hits:
        text = "\n".join(
            [
                _("Nothing found for «{query}».").format(query=echo(query)),
                _("Try other words, or browse the plan or who is responsible."),
                *searched_in(plan, plans),
            ]
        )
        keyboard = measures_keyboard(
            (),
            back_to_plan(),
            _button(_("🏛 Who is responsible"), GlossaryCb(kind=GlossaryKind.body)),
        )
        await answer(message, text, keyboard)
        return
    measures = [h.measure for h in hits]
    text = "\n".join([heading, *searched_in(plan, plans), "", *measure_list(measures)])
    await answer(message, text, measures_keyboard(measures, back_to_menu()))


async def cmd_search(
    message: Message, command: CommandObject, search: MeasureSearch, plan: Plan, plans: Plans
) -> None:
    if not command.args or not command.args.strip():
        await answer(message, search_prompt(), measures_keyboard((), back_to_menu()))
        return
    await reply_with_results(message, search, command.args, plan, plans)


async def on_search_menu(query: CallbackQuery) -> None:
    await show(query, search_prompt(), measures_keyboard((), back_to_menu()))


# Plain text only when no dialog is waiting for an answer: a dialog's own router sees it first.
async def on_plain_text(message: Message, search: MeasureSearch, plan: Plan, plans: Plans) -> None:
    assert message.text is not None
    await reply_with_results(message, search, message.text, plan, plans)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_search, commands.SEARCH.filter)
    router.callback_query.register(on_search_menu, MenuCb.filter(F.action == MenuAction.search))
    router.message.register(on_plain_text, StateFilter(None), TEXT, TYPED)
    return router
