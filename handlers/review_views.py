"""How an activity report looks to its reviewers and its authors, and telling people about it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from html import escape

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db.activity_reports import ActivityRecord
from plan import Plan
from scheduler.notifier import Composed, Notifier

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
        lines.append(
            _("<b>Participants:</b> CSO {cso}, City Council {council}").format(
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


async def send_quietly(bot: Bot, chat_ids: Iterable[int], text: str, **kwargs: object) -> int:
    """Tell several people something; one who blocked the bot must not stop the others."""
    delivered = 0
    for chat_id in chat_ids:
        try:
            await bot.send_message(chat_id, text, **kwargs)  # type: ignore[arg-type]
            delivered += 1
        except TelegramAPIError as e:
            log.warning("could not notify chat %s: %s", chat_id, e.message)
    return delivered


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


def submission_card(plan: Plan, record: ActivityRecord) -> Callable[[], Composed]:
    """The new report with the decision buttons, as each coordinator reads it."""

    def card() -> Composed:
        text = "\n".join([_("📝 A new report to review."), "", *report_lines(plan, record)])
        return text, review_keyboard(record.id)

    return card


async def announce_submission(
    bot: Bot, notifier: Notifier, card_ids: Sequence[int], record: ActivityRecord
) -> None:
    """The cards recorded in the outbox go out; who got one gets the evidence file after it."""
    for chat_id in await notifier.deliver(bot, card_ids):
        await send_evidence(bot, chat_id, record)
