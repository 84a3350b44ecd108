"""Browsing by responsible body (/bodies) and by funding source (/funding)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers import commands
from handlers.callbacks import GlossaryCb, GlossaryKind, MenuAction, MenuCb
from handlers.plan_views import glossary_entries, glossary_entry_view, glossary_view
from handlers.reply import answer, show
from plan import Plan


async def cmd_bodies(message: Message, plan: Plan) -> None:
    await answer(message, *glossary_view(plan, GlossaryKind.body))


async def cmd_funding(message: Message, plan: Plan) -> None:
    await answer(message, *glossary_view(plan, GlossaryKind.funding))


async def on_bodies_menu(query: CallbackQuery, plan: Plan) -> None:
    await show(query, *glossary_view(plan, GlossaryKind.body))


async def on_funding_menu(query: CallbackQuery, plan: Plan) -> None:
    await show(query, *glossary_view(plan, GlossaryKind.funding))


async def on_glossary(query: CallbackQuery, callback_data: GlossaryCb, plan: Plan) -> None:
    if not callback_data.id:
        await show(query, *glossary_view(plan, callback_data.kind))
        return
    entries = glossary_entries(plan, callback_data.kind)
    entry = next((e for e in entries if e.id == callback_data.id), None)
    if entry is None:
        await query.answer(_("This button is out of date. Open the list again."), show_alert=True)
        return
    await show(query, *glossary_entry_view(plan, callback_data.kind, entry))


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_bodies, commands.BODIES.filter)
    router.message.register(cmd_funding, commands.FUNDING.filter)
    router.callback_query.register(on_bodies_menu, MenuCb.filter(F.action == MenuAction.bodies))
    router.callback_query.register(on_funding_menu, MenuCb.filter(F.action == MenuAction.funding))
    router.callback_query.register(on_glossary, GlossaryCb.filter())
    return router
