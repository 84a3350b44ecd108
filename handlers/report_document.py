"""/report's Word document: the button and what it sends, for coordinators only."""

from __future__ import annotations

import asyncio

from aiogram import Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from db import Database
from handlers.progress import year_progress
from handlers.reply import preparing
from handlers.report import refuse_report_button
from handlers.report_docx import docx_bytes
from handlers.roles import COORDINATOR, HasRole, guard
from plan import Plan
from plan.clock import Clock


class ReportDocxCb(CallbackData, prefix="repd"):
    year: int


def docx_button(year: int) -> InlineKeyboardButton:
    """The button /report's summary shows beside CSV, XLSX and JSON."""
    return InlineKeyboardButton(text="DOCX", callback_data=ReportDocxCb(year=year).pack())


async def on_report_docx(
    query: CallbackQuery, callback_data: ReportDocxCb, plan: Plan, db: Database, clock: Clock
) -> None:
    year = callback_data.year
    if year not in plan.years or query.bot is None:
        await query.answer(_("This button is out of date. Send /report again."), show_alert=True)
        return
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    await query.answer(_("Preparing the document…"))
    today = clock.today()
    progress, _waiting = await year_progress(db, plan, year, today)
    async with db.read() as repos:
        activities = await repos.public.activities(plan.id, year)
    async with preparing(query.bot, chat_id):
        # python-docx and the chart take a second or two: off the event loop.
        data = await asyncio.to_thread(docx_bytes, plan, year, progress, activities, today)
        await query.bot.send_document(
            chat_id,
            BufferedInputFile(data, filename=f"report-{year}.docx"),
            caption=_("The report for {year} as a document for the public review.").format(
                year=year
            ),
        )


def build_router() -> Router:
    router = Router(name=__name__)
    coordinators = Router(name=f"{__name__}.coordinators")
    # Checked at router level: a forged button from anyone else matches nothing here.
    guard(coordinators, HasRole(COORDINATOR))
    coordinators.callback_query.register(on_report_docx, ReportDocxCb.filter())
    others = Router(name=f"{__name__}.others")
    others.callback_query.register(refuse_report_button, ReportDocxCb.filter())
    router.include_routers(coordinators, others)
    return router
