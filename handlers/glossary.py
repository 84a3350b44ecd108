"""Browsing by responsible body (/bodies) and by funding source (/funding)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers import commands
from handlers.callbacks import GlossaryCb, GlossaryKind, MenuAction, MenuCb
from handlers.plan_views import glossary_entry_view, glossary_view
from handlers.reply import answer, show
from plan import Plan

router = Router(name=__name__)


@router.message(commands.BODIES.filter)
async def cmd_bodies(message: Message, plan: Plan) -> None:
    await answer(message, *glossary_view(plan, GlossaryKind.body))


@router.message(commands.FUNDING.filter)
async def cmd_funding(message: Message, plan: Plan) -> None:
    await answer(message, *glossary_view(plan, GlossaryKind.funding))


@router.callback_query(MenuCb.filter(F.action == MenuAction.bodies))
async def on_bodies_menu(query: CallbackQuery, plan: Plan) -> None:
    await show(query, *glossary_view(plan, GlossaryKind.body))


@router.callback_query(MenuCb.filter(F.action == MenuAction.funding))
async def on_funding_menu(query: CallbackQuery, plan: Plan) -> None:
    await show(query, *glossary_view(plan, GlossaryKind.funding))


@router.callback_query(GlossaryCb.filter())
async def on_glossary(query: CallbackQuery, callback_data: GlossaryCb, plan: Plan) -> None:
    if not callback_data.id:
        await show(query, *glossary_view(plan, callback_data.kind))
        return
    entries = plan.bodies if callback_data.kind is GlossaryKind.body else plan.funding_sources
    entry = next((e for e in entries if e.id == callback_data.id), None)
    if entry is None:
        await query.answer(_("This button is out of date. Open the list again."), show_alert=True)
        return
    await show(query, *glossary_entry_view(plan, callback_data.kind, entry))
