"""/pending: everything that waits for a coordinator, in one place, each with its buttons:
activity reports, proposed events, organisation registrations and join requests."""

from __future__ import annotations

from aiogram.types import Message, User
from aiogram.utils.i18n import gettext as _

from db import Database
from handlers.events.admin import proposal_card
from handlers.organisations.review import waiting_cards
from handlers.reply import answer
from handlers.review_views import (
    interested,
    report_lines,
    reporter_of,
    review_keyboard,
    send_evidence,
)
from plan import Plan
from plan.clock import Clock

PENDING_SHOWN = 10  # report cards at a time: each may bring its evidence along


async def cmd_pending(
    message: Message, db: Database, plan: Plan, clock: Clock, event_from_user: User
) -> None:
    shown = await _reports(message, db, plan, event_from_user)
    shown += await _proposals(message, db, plan, clock)
    cards = await waiting_cards(db, plan)
    if cards:
        await answer(
            message,
            _("Organisations and join requests waiting for a decision: {n}").format(n=len(cards)),
        )
        for text, markup in cards:
            await answer(message, text, markup)
    if not shown and not cards:
        await answer(message, _("Nothing else is waiting for a coordinator."))


async def _reports(message: Message, db: Database, plan: Plan, coordinator: User) -> int:
    async with db.read() as repo:
        waiting = await repo.reports.pending()
    # Four eyes: a coordinator's own organisation's reports are for the other coordinators.
    pending = []
    others = 0
    for record in waiting:
        if coordinator.id in await interested(db, record):
            others += 1
        else:
            pending.append(record)
    if others:
        await answer(
            message,
            _("Reports of your own organisation waiting for another coordinator: {n}.").format(
                n=others
            ),
        )
    if not pending:
        await answer(message, _("No reports are waiting for review. 🎉"))
        return 0
    await answer(
        message,
        _("Reports waiting for review: {n}").format(
            n=f"{PENDING_SHOWN}+" if len(pending) > PENDING_SHOWN else len(pending)
        ),
    )
    for record in pending[:PENDING_SHOWN]:
        async with db.read() as repo:
            reporter = await reporter_of(repo, record)
        await answer(
            message, "\n".join(report_lines(plan, record, reporter)), review_keyboard(record.id)
        )
        if message.bot is not None:
            await send_evidence(message.bot, message.chat.id, record)
    return len(pending)


async def _proposals(message: Message, db: Database, plan: Plan, clock: Clock) -> int:
    async with db.read() as repo:
        proposals = await repo.events.proposed()
    if not proposals:
        return 0
    await answer(message, _("Proposed events waiting for approval: {n}").format(n=len(proposals)))
    for event in proposals:
        await answer(message, *proposal_card(event, plan, clock))
    return len(proposals)
