"""/myreports: an organisation's reports with their status; a returned one can be corrected,
one still waiting for review can be withdrawn by its author (it becomes a draft again)."""

from __future__ import annotations

from enum import StrEnum

from aiogram import Bot, F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n

from db import Database
from db.activity_reports import ActivityRecord
from formats.dates import short_date
from handlers import commands
from handlers.activity_form import ACTIVITY, Draft
from handlers.forms import CONFIRM
from handlers.keyboards import button, column, grid
from handlers.reply import answer, echo, show
from handlers.review_views import report_lines, report_subject, reporter_of, status_label
from handlers.roles import ReportsForOrganisation, guard
from plan import Plan
from scheduler.notifier import Notifier

SHOWN = 20


class MyReportAction(StrEnum):
    open = "open"
    edit = "edit"
    withdraw = "withdraw"
    withdraw_yes = "withdraw_yes"
    back = "back"


CORRECTABLE = ("returned", "draft")  # returned by a coordinator, or withdrawn by its author


class MyReportCb(CallbackData, prefix="my"):
    action: MyReportAction
    activity_id: int


async def _listing(db: Database, organisation_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    async with db.read() as repo:
        records = await repo.reports.of_organisation(organisation_id, limit=SHOWN)
    if not records:
        return _("Your organisation has no reports yet. Send one with /activity."), None
    locale = get_i18n().current_locale
    lines = [_("<b>Your organisation's reports</b> (newest first):"), ""]
    buttons = []
    for record in records:
        lines.append(
            f"№{record.id} · {short_date(record.date, locale)} · {record.measure_code} · "
            f"{status_label(record.status)}"
        )
        buttons.append(
            button(
                _("№{id}: open").format(id=record.id),
                MyReportCb(action=MyReportAction.open, activity_id=record.id),
            )
        )
    return "\n".join(lines), grid(buttons, 3)


async def cmd_myreports(message: Message, db: Database, organisation_id: int) -> None:
    await answer(message, *await _listing(db, organisation_id))


async def on_back(query: CallbackQuery, db: Database, organisation_id: int) -> None:
    await show(query, *await _listing(db, organisation_id))


async def _own(db: Database, activity_id: int, organisation_id: int) -> ActivityRecord | None:
    async with db.read() as repo:
        record = await repo.reports.get(activity_id)
    # Another organisation's report is treated as if it did not exist.
    return record if record is not None and record.organisation_id == organisation_id else None


async def _card(
    db: Database, plan: Plan, record: ActivityRecord, user_id: int
) -> tuple[str, InlineKeyboardMarkup]:
    async with db.read() as repo:
        reporter = await reporter_of(repo, record)
    buttons = []
    if record.status in CORRECTABLE:
        buttons.append(
            button(
                _("✏ Correct and send again"),
                MyReportCb(action=MyReportAction.edit, activity_id=record.id),
            )
        )
    if record.status == "submitted" and record.reported_by == user_id:
        buttons.append(
            button(
                _("↩ Withdraw"), MyReportCb(action=MyReportAction.withdraw, activity_id=record.id)
            )
        )
    buttons.append(
        button(_("⬅ Back to the list"), MyReportCb(action=MyReportAction.back, activity_id=0))
    )
    return "\n".join(report_lines(plan, record, reporter)), column(buttons)


async def on_open(
    query: CallbackQuery,
    callback_data: MyReportCb,
    db: Database,
    plan: Plan,
    organisation_id: int,
    event_from_user: User,
) -> None:
    record = await _own(db, callback_data.activity_id, organisation_id)
    if record is None or not isinstance(query.message, Message):
        await query.answer(_("There is no such report among yours."), show_alert=True)
        return
    await show(query, *await _card(db, plan, record, event_from_user.id))


async def on_withdraw(
    query: CallbackQuery, callback_data: MyReportCb, db: Database, organisation_id: int
) -> None:
    """Ask first: a withdrawn report leaves the coordinators' queue."""
    record = await _own(db, callback_data.activity_id, organisation_id)
    if record is None or record.status != "submitted":
        await query.answer(_("Only a report still waiting for review can be withdrawn."), True)
        return
    keyboard = column(
        [
            button(
                _("Yes, withdraw it"),
                MyReportCb(action=MyReportAction.withdraw_yes, activity_id=record.id),
            ),
            button(
                _("No, keep it waiting"),
                MyReportCb(action=MyReportAction.open, activity_id=record.id),
            ),
        ]
    )
    await show(
        query,
        _(
            "Withdraw report №{id} «{title}» from review? It stays among your reports as a "
            "draft: you can correct it and send it again."
        ).format(id=record.id, title=echo(record.title)),
        keyboard,
    )


async def on_withdraw_yes(
    query: CallbackQuery,
    callback_data: MyReportCb,
    db: Database,
    plan: Plan,
    organisation_id: int,
    event_from_user: User,
    bot: Bot,
    notifier: Notifier,
) -> None:
    record = await _own(db, callback_data.activity_id, organisation_id)
    if record is None:
        await query.answer(_("There is no such report among yours."), show_alert=True)
        return
    async with db.transaction() as repo:
        done = await repo.reports.withdraw(record.id, actor=event_from_user.id)
        record = await repo.reports.get(record.id) or record
    if not done:
        await query.answer(
            _("Report №{id} cannot be withdrawn: {status}.").format(
                id=record.id, status=status_label(record.status)
            ),
            show_alert=True,
        )
        return
    text, markup = await _card(db, plan, record, event_from_user.id)
    await show(
        query, _("↩ Report №{id} was withdrawn.").format(id=record.id) + "\n\n" + text, markup
    )
    # The coordinators' cards of it lose their buttons: there is nothing to decide any more.
    await notifier.retire(bot, report_subject(record.id))


async def on_edit(
    query: CallbackQuery,
    callback_data: MyReportCb,
    state: FSMContext,
    db: Database,
    plan: Plan,
    organisation_id: int,
) -> None:
    record = await _own(db, callback_data.activity_id, organisation_id)
    if (
        record is None
        or record.status not in CORRECTABLE
        or not isinstance(query.message, Message)
    ):
        await query.answer(
            _("Only a returned or withdrawn report of yours can be corrected."), show_alert=True
        )
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
    router.callback_query.register(
        on_withdraw, MyReportCb.filter(F.action == MyReportAction.withdraw)
    )
    router.callback_query.register(
        on_withdraw_yes, MyReportCb.filter(F.action == MyReportAction.withdraw_yes)
    )
    router.callback_query.register(on_back, MyReportCb.filter(F.action == MyReportAction.back))
    return router
