"""How an activity report looks to its reviewers and its authors, and telling people about it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from html import escape

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db import Database
from db.activity_reports import ActivityRecord
from plan import Plan
from plan.model import cso_participants_unit
from scheduler.notifier import Notifier

log = logging.getLogger(__name__)


class ReviewCb(CallbackData, prefix="rv"):
    """A coordinator's decision on a report: approve, return, reject or duplicate."""

    action: str
    activity_id: int


def status_label(status: str) -> str:
    return {
        "submitted": _("⏳ awaiting review"),
        "approved": _("✅ approved"),
        "returned": _("↩ returned for correction"),
        "rejected": _("⛔ rejected"),
        "draft": _("draft"),
    }.get(status, status)


def report_lines(plan: Plan, record: ActivityRecord) -> list[str]:
    indicator = plan.indicator(record.indicator_id)
    measure = plan.measure(record.measure_code)
    lines = [
        _("<b>Report №{id}</b> — {status}").format(
            id=record.id, status=status_label(record.status)
        ),
        _("<b>Organisation:</b> {name}").format(name=escape(record.organisation_name)),
        _("<b>Measure:</b> {value}").format(
            value=f"{record.measure_code} {escape(measure.title)}"
            if measure
            else record.measure_code
        ),
        _("<b>Result:</b> {value}").format(
            value=escape(indicator.description) if indicator else record.indicator_id
        ),
        _("<b>Date:</b> {value}").format(value=record.date.strftime("%d.%m.%Y")),
        _("<b>Title:</b> {value}").format(value=escape(record.title)),
    ]
    if record.description:
        lines.append(_("<b>Description:</b> {value}").format(value=escape(record.description)))
    if indicator is not None and indicator.kind == "count":
        lines.append(_("<b>Quantity:</b> {value}").format(value=record.quantity))
    if record.cso_participants is not None or record.council_participants is not None:
        # 2.4.4 counts the organisations themselves, not their people: say which.
        organisations = (
            indicator is not None and cso_participants_unit(indicator) == "organisations"
        )
        lines.append(
            (
                _("<b>Participants:</b> CSOs (organisations) {cso}, City Council {council}")
                if organisations
                else _("<b>Participants:</b> CSO {cso}, City Council {council}")
            ).format(
                cso=record.cso_participants if record.cso_participants is not None else "—",
                council=(
                    record.council_participants if record.council_participants is not None else "—"
                ),
            )
        )
    if record.co_organisers:
        lines.append(_("<b>Co-organisers:</b> {value}").format(value=escape(record.co_organisers)))
    if record.evidence_url:
        lines.append(_("<b>Evidence:</b> {value}").format(value=escape(record.evidence_url)))
    elif record.evidence_kind in ("photo", "document"):
        lines.append(_("<b>Evidence:</b> {value}").format(value=_("attached below")))
    if record.duplicate_of is not None:
        lines.append(_("Counted once with report №{id}.").format(id=record.duplicate_of))
    if record.review_comment:
        lines.append(
            _("<b>Coordinator's comment:</b> {value}").format(value=escape(record.review_comment))
        )
    return lines


def review_keyboard(activity_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for text, action in (
        (_("✅ Approve"), "approve"),
        (_("↩ Return"), "return"),
        (_("⛔ Reject"), "reject"),
        (_("🔗 Duplicate of…"), "duplicate"),
    ):
        builder.button(text=text, callback_data=ReviewCb(action=action, activity_id=activity_id))
    builder.adjust(3, 1)
    return builder.as_markup()


async def interested(db: Database, record: ActivityRecord) -> set[int]:
    """Who may not decide on a report (four eyes): its reporter and every member of the
    reporting organisation. They hear the outcome; another coordinator decides."""
    async with db.read() as repo:
        people = set(await repo.memberships.members_of(record.organisation_id))
    if record.reported_by is not None:
        people.add(record.reported_by)
    return people


async def send_evidence(bot: Bot, chat_id: int, record: ActivityRecord) -> None:
    if not record.evidence_file_id:
        return
    try:
        if record.evidence_kind == "photo":
            await bot.send_photo(chat_id, record.evidence_file_id)
        else:
            await bot.send_document(chat_id, record.evidence_file_id)
    except TelegramAPIError as e:
        log.warning("could not forward evidence of report %s: %s", record.id, e.message)


async def announce_submission(
    bot: Bot,
    db: Database,
    plan: Plan,
    activity_id: int,
    coordinators: Iterable[int],
    notifier: Notifier | None = None,
) -> None:
    """The coordinators who may decide get the new report with the decision buttons.

    A coordinator who belongs to the reporting organisation, or reported it, does not (four
    eyes). When no coordinator is left, the report waits and every coordinator is told why.
    """
    # The notifier is a dispatcher kwarg; a caller that has none yet gets the same one.
    notifier = notifier or Notifier(db, get_i18n())
    async with db.read() as repo:
        record = await repo.reports.get(activity_id)
    if record is None:
        return
    everyone = set(coordinators)
    deciders = everyone - await interested(db, record)
    if not deciders:
        await notifier.tell(
            bot,
            everyone,
            lambda: _(
                "⏳ Report №{id} of {organisation} waits for review: every coordinator belongs "
                "to that organisation or reported it, and no one decides on their own "
                "organisation's report. Add another coordinator with /coordinators."
            ).format(id=record.id, organisation=escape(record.organisation_name)),
        )
        return
    told = await notifier.tell(
        bot,
        deciders,
        lambda: (
            "\n".join([_("📝 A new report to review."), "", *report_lines(plan, record)]),
            review_keyboard(activity_id),
        ),
    )
    for chat_id in told:
        await send_evidence(bot, chat_id, record)
