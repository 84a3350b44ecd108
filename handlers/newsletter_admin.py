"""/newsletter for coordinators: the coming issue's preview, a test, its introduction, approval,
and the Pause / Resume / Cancel buttons of a send in progress."""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from db import Database, NewsletterRecord
from formats.telegram_text import html_problem
from handlers import commands
from handlers.reply import answer, drop_keyboard
from handlers.roles import COORDINATOR, HasRole, guard, refuse_non_coordinator
from plan import Plan
from scheduler.newsletter import job as newsletter_job
from scheduler.newsletter.compose import month_of, next_month
from scheduler.newsletter.delivery import DeliveryRunner, cancel_newsletter, pause_newsletter
from scheduler.newsletter.job import NewsletterCb, Runtime

MAX_INTRO = 3000  # with the title, the introduction always fits in the issue's first message


class IntroForm(StatesGroup):
    text = State()


def _runtime(
    bot: Bot, db: Database, config: Any, plan: Plan, i18n: I18n, deliveries: Any
) -> Runtime:
    return Runtime.build(bot, db, config, plan, i18n, deliveries)


async def _issue_for_now(rt: Runtime) -> NewsletterRecord:
    now = newsletter_job.current_time()
    month = month_of(now, rt.timezone)
    async with rt.db.read() as repo:
        record = await repo.newsletters.by_month(month)
    if record is not None and record.status in ("sent", "cancelled"):
        month = next_month(month)
        async with rt.db.read() as repo:
            record = await repo.newsletters.by_month(month)
    if record is None or record.status in ("draft", "approved"):
        record = await newsletter_job.prepare_issue(rt, month, now)
    return record


async def cmd_newsletter(
    message: Message, bot: Bot, db: Database, config: Any, plan: Plan, i18n: I18n,
    deliveries: DeliveryRunner,
) -> None:  # fmt: skip
    rt = _runtime(bot, db, config, plan, i18n, deliveries)
    record = await _issue_for_now(rt)
    await newsletter_job.send_preview(
        rt, message.chat.id, record, _("📰 The coming newsletter, as subscribers will see it.")
    )


async def on_action(
    query: CallbackQuery,
    callback_data: NewsletterCb,
    state: FSMContext,
    bot: Bot,
    db: Database,
    config: Any,
    plan: Plan,
    i18n: I18n,
    deliveries: DeliveryRunner,
    event_from_user: User,
) -> None:
    rt = _runtime(bot, db, config, plan, i18n, deliveries)
    async with db.read() as repo:
        record = await repo.newsletters.get(callback_data.id)
    if record is None:
        await query.answer(_("There is no such newsletter."), show_alert=True)
        return
    action = callback_data.action
    chat_id = query.message.chat.id if query.message else event_from_user.id
    message_id = query.message.message_id if query.message else None
    if action == "test":
        await query.answer()
        for part in record.parts:
            await bot.send_message(chat_id, part, reply_markup=None)
        await bot.send_message(chat_id, _("🧪 That was the test: only you received it."))
        return
    if action == "intro":
        if record.status not in ("draft", "approved"):
            await query.answer(_("This newsletter can no longer be changed."), show_alert=True)
            return
        await state.set_state(IntroForm.text)
        await state.set_data({"newsletter_id": record.id})
        await query.answer()
        await bot.send_message(
            chat_id,
            _(
                "Send the introduction (up to {limit} characters; Telegram HTML such as "
                "&lt;b&gt;bold&lt;/b&gt; is allowed). /cancel keeps the current one."
            ).format(limit=MAX_INTRO),
        )
        return
    if action == "approve":
        async with db.transaction() as repo:
            approved = await repo.newsletters.approve(record.id, event_from_user.id)
        if not approved:
            await query.answer(_("This newsletter is not a draft any more."), show_alert=True)
            return
        await query.answer(_("Approved."))
        if isinstance(query.message, Message):
            await drop_keyboard(query.message)
        at = rt.send_at(record.month)
        if at is not None and newsletter_job.current_time() >= at:
            # Its send time has passed (it was waiting for this approval): send it now.
            newsletter_job.spawn_send(rt, record.id, {chat_id: None})
        else:
            when = at.strftime("%d.%m.%Y %H:%M") if at else "—"
            await bot.send_message(
                chat_id,
                _("✅ The {month} newsletter is approved; it goes out on {when}.").format(
                    month=record.month, when=when
                ),
            )
        return
    if action == "pause":
        done = await pause_newsletter(db, record.id)
        await query.answer(_("Pausing…") if done else _("It is not being sent."))
        return
    if action == "cancel":
        was = record.status
        done = await cancel_newsletter(db, record.id)
        await query.answer(_("Cancelled.") if done else _("It can no longer be cancelled."))
        if done and was == "paused" and message_id is not None:
            # Nothing is running to show it: say so on the same message.
            board = newsletter_job.ProgressBoard(
                rt, record.id, record.month, {chat_id: message_id}
            )
            await board.finish(None, "cancelled")
        return
    if action == "resume":
        if record.status != "paused":
            await query.answer(_("It is not paused."), show_alert=True)
            return
        await query.answer(_("Resuming…"))
        newsletter_job.spawn_send(rt, record.id, {chat_id: message_id})
        return
    await query.answer(_("This button is out of date."), show_alert=True)


async def on_intro(
    message: Message, state: FSMContext, bot: Bot, db: Database, config: Any, plan: Plan,
    i18n: I18n, deliveries: DeliveryRunner,
) -> None:  # fmt: skip
    text = (message.text or "").strip()
    if not text:
        await answer(message, _("Please send the introduction as text, or /cancel."))
        return
    if len(text) > MAX_INTRO:
        await answer(
            message,
            _(
                "The introduction is {length} characters long; the limit is {limit}. Shorten it "
                "and send it again, or /cancel: the current introduction is kept."
            ).format(length=len(text), limit=MAX_INTRO),
        )
        return
    problem = html_problem(text)
    if problem is not None:
        await answer(
            message,
            _(
                "Telegram would refuse this HTML ({problem}). Correct it and send it again, or "
                "/cancel: the current introduction is kept."
            ).format(problem=escape(problem)),
        )
        return
    data = await state.get_data()
    await state.clear()
    rt = _runtime(bot, db, config, plan, i18n, deliveries)
    async with db.read() as repo:
        record = await repo.newsletters.get(int(data["newsletter_id"]))
    if record is None or record.status not in ("draft", "approved"):
        await answer(message, _("This newsletter can no longer be changed."))
        return
    if record.status == "approved":
        # What was approved has changed: it needs approving again.
        async with db.transaction() as repo:
            await repo.newsletters.set_status(record.id, "draft", only_from=("approved",))
    record = await newsletter_job.prepare_issue(
        rt, record.month, newsletter_job.current_time(), intro=text
    )
    await newsletter_job.send_preview(
        rt, message.chat.id, record, _("✏ The introduction is saved. The newsletter now reads:")
    )


async def on_intro_cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await answer(message, _("The introduction is unchanged."))


def build_router() -> Router:
    router = Router(name=__name__)
    coordinators = Router(name=f"{__name__}.coordinators")
    guard(coordinators, HasRole(COORDINATOR))
    coordinators.message.register(cmd_newsletter, commands.NEWSLETTER.filter)
    coordinators.callback_query.register(on_action, NewsletterCb.filter())
    coordinators.message.register(
        on_intro_cancel, commands.CANCEL.filter, StateFilter(IntroForm.text)
    )
    coordinators.message.register(on_intro, StateFilter(IntroForm.text), ~F.text.startswith("/"))
    # Everyone else: a refusal, and nothing changes (a router tries its own handlers before its
    # children's, so this is a child placed after the coordinators').
    others = Router(name=f"{__name__}.others")
    others.message.register(refuse_non_coordinator, commands.NEWSLETTER.filter)
    others.callback_query.register(refuse_non_coordinator, NewsletterCb.filter())
    router.include_routers(coordinators, others)
    return router
