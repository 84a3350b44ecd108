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

from db import Database, Repositories
from db.activity_reports import ActivityRecord
from db.users import Person
from formats.dates import long_date
from handlers.people import reported_by
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
        "draft": _("withdrawn by its author"),
    }.get(status, status)


def report_lines(plan: Plan, record: ActivityRecord, reporter: Person | None = None) -> list[str]:
    """A report's card; `reporter` (the person who sent it) is named when given."""
    indicator = plan.indicator(record.indicator_id)
    measure = plan.measure(record.measure_code)
    lines = [
        _("<b>Report №{id}</b> — {status}").format(
            id=record.id, status=status_label(record.status)
        ),
        _("<b>Organisation:</b> {name}").format(name=escape(record.organisation_name)),
        *([reported_by(reporter)] if reporter is not None else []),
        _("<b>Measure:</b> {value}").format(
            value=f"{record.measure_code} {escape(measure.title)}"
            if measure
            else record.measure_code
        ),
        _("<b>Result:</b> {value}").format(
            value=escape(indicator.description) if indicator else record.indicator_id
        ),
        _("<b>Date:</b> {value}").format(value=long_date(record.date, get_i18n().current_locale)),
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
        # On a report sent again the comment is the one it was returned with.
        label = (
            _("<b>Earlier comment:</b> {value}")
            if record.status == "submitted"
            else _("<b>Coordinator's comment:</b> {value}")
        )
        lines.append(label.format(value=escape(record.review_comment)))
    return lines


async def reporter_of(repo: Repositories, record: ActivityRecord) -> Person | None:
    """The person who sent a report, as the bot last saw them."""
    if record.reported_by is None:
        return None
    return (await repo.users.people([record.reported_by]))[record.reported_by]


def report_subject(activity_id: int) -> str:
    """What a review card is about (the outbox finds its copies by it, once decided)."""
    return f"report:{activity_id}"


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
        return await interested_in(repo, record)


async def interested_in(repo: Repositories, record: ActivityRecord) -> set[int]:
    """`interested`, within the caller's unit of work."""
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


async def enqueue_submission(
    repo: Repositories,
    notifier: Notifier,
    plan: Plan,
    activity_id: int,
    coordinators: Iterable[int],
) -> list[int]:
    """Record, in the submission's own transaction, the coordinators' messages about a report
    just sent (or sent again); the outbox ids, for `deliver` and `send_evidence` after it.

    The coordinators who may decide get the report with the decision buttons; one who belongs
    to the reporting organisation, or reported it, does not (four eyes). When no coordinator is
    left, the report waits and every coordinator is told why.
    """
    record = await repo.reports.get(activity_id)
    if record is None:
        return []
    everyone = set(coordinators)
    deciders = everyone - await interested_in(repo, record)
    if not deciders:
        return await notifier.enqueue(
            repo,
            everyone,
            lambda: _(
                "⏳ Report №{id} of {organisation} waits for review: every coordinator belongs "
                "to that organisation or reported it, and no one decides on their own "
                "organisation's report. Add another coordinator with /coordinators."
            ).format(id=record.id, organisation=escape(record.organisation_name)),
            "report submitted",
        )
    again = await repo.reports.times_submitted(activity_id) > 1
    reporter = await reporter_of(repo, record)

    def compose() -> tuple[str, InlineKeyboardMarkup]:
        heading = (
            _("🔁 A corrected report, sent again for review.")
            if again
            else _("📝 A new report to review.")
        )
        lines = [heading, "", *report_lines(plan, record, reporter)]
        return "\n".join(lines), review_keyboard(activity_id)

    return await notifier.enqueue(
        repo, deciders, compose, "report submitted", report_subject(activity_id)
    )


async def deliver_submission(
    bot: Bot, db: Database, notifier: Notifier, activity_id: int, ids: list[int]
) -> None:
    """Send the recorded messages; whoever got the card gets the evidence under it."""
    told = await notifier.deliver(bot, ids)
    async with db.read() as repo:
        record = await repo.reports.get(activity_id)
    if record is None or record.status != "submitted":
        return
    deciders = set(told) - await interested(db, record)
    for chat_id in sorted(deciders):
        await send_evidence(bot, chat_id, record)
