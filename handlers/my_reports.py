"""/myreports: an organisation's reports with their status; a returned one can be corrected."""

from __future__ import annotations

from enum import StrEnum

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db import Database
from db.activity_reports import ActivityRecord
from handlers import commands
from handlers.activity_form import ACTIVITY, Draft
from handlers.forms import CONFIRM
from handlers.reply import answer
from handlers.review_views import report_lines, status_label
from handlers.roles import ReportsForOrganisation, guard
from plan import Plan

SHOWN = 20


class MyReportAction(StrEnum):
    open = "open"
    edit = "edit"


class MyReportCb(CallbackData, prefix="my"):
    action: MyReportAction
    activity_id: int


async def cmd_myreports(message: Message, db: Database, organisation_id: int) -> None:
    async with db.read() as repo:
        records = await repo.reports.of_organisation(organisation_id, limit=SHOWN)
    if not records:
        await answer(message, _("Your organisation has no reports yet. Send one with /activity."))
        return
    lines = [_("<b>Your organisation's reports</b> (newest first):"), ""]
    builder = InlineKeyboardBuilder()
    for record in records:
        lines.append(
            f"№{record.id} · {record.date.strftime('%d.%m.%Y')} · {record.measure_code} · "
            f"{status_label(record.status)}"
        )
        builder.button(
            text=_("№{id}: open").format(id=record.id),
            callback_data=MyReportCb(action=MyReportAction.open, activity_id=record.id),
        )
    builder.adjust(3)
    await answer(message, "\n".join(lines), builder.as_markup())


async def _own(db: Database, activity_id: int, organisation_id: int) -> ActivityRecord | None:
    async with db.read() as repo:
        record = await repo.reports.get(activity_id)
    # Another organisation's report is treated as if it did not exist.
    return record if record is not None and record.organisation_id == organisation_id else None


async def on_open(
    query: CallbackQuery, callback_data: MyReportCb, db: Database, plan: Plan, organisation_id: int
) -> None:
    record = await _own(db, callback_data.activity_id, organisation_id)
    if record is None or not isinstance(query.message, Message):
        await query.answer(_("There is no such report among yours."), show_alert=True)
        return
    await query.answer()
    builder = InlineKeyboardBuilder()
    if record.status == "returned":
        builder.button(
            text=_("✏ Correct and send again"),
            callback_data=MyReportCb(action=MyReportAction.edit, activity_id=record.id),
        )
    await answer(query.message, "\n".join(report_lines(plan, record)), builder.as_markup())


async def on_edit(
    query: CallbackQuery,
    callback_data: MyReportCb,
    state: FSMContext,
    db: Database,
    plan: Plan,
    organisation_id: int,
) -> None:
    record = await _own(db, callback_data.activity_id, organisation_id)
    if record is None or record.status != "returned" or not isinstance(query.message, Message):
        await query.answer(_("Only a returned report of yours can be corrected."), show_alert=True)
        return
    await query.answer()
    draft = Draft(
        measure=record.measure_code,
        indicator=record.indicator_id,
        date=record.date.isoformat(),
        title=record.title,
        description=record.description,
        quantity=record.quantity,
        cso=record.cso_participants,
        council=record.council_participants,
        co_organisers=record.co_organisers,
        evidence_kind=record.evidence_kind,
        evidence=record.evidence_url or record.evidence_file_id,
        activity_id=record.id,
    )
    await ACTIVITY.start(query.message, state, {"plan": plan}, draft, CONFIRM)


def build_router() -> Router:
    router = Router(name=__name__)
    guard(router, ReportsForOrganisation())
    router.message.register(cmd_myreports, commands.MYREPORTS.filter)
    router.callback_query.register(on_open, MyReportCb.filter(F.action == MyReportAction.open))
    router.callback_query.register(on_edit, MyReportCb.filter(F.action == MyReportAction.edit))
    return router
