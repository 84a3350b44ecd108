"""/newsletter for coordinators: the coming issue's preview, a test, its introduction, approval,
and the Pause / Resume / Cancel buttons of a send in progress (one handler per button)."""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from db import NewsletterRecord
from formats.dates import event_time, month_label
from formats.telegram_text import html_problem, visible_length
from handlers import commands
from handlers.dialog import enter
from handlers.forms.errors import characters
from handlers.reply import answer, drop_keyboard
from handlers.roles import COORDINATOR, HasRole, guard, refuse_non_coordinator
from handlers.routing import TYPED
from scheduler.newsletter.delivery import cancel_newsletter, pause_newsletter
from scheduler.newsletter.job import Newsletter
from scheduler.newsletter.keyboards import IssueAction, NewsletterCb

MAX_INTRO = 3000  # with the title, the introduction always fits in the issue's first message


class IntroForm(StatesGroup):
    text = State()


def _chat_of(query: CallbackQuery, user: User) -> int:
    return query.message.chat.id if query.message else user.id


async def known_issue(
    query: CallbackQuery, callback_data: NewsletterCb, newsletter: Newsletter
) -> dict[str, NewsletterRecord] | bool:
    """Filter: the issue a button names, handed to the handler as `issue`."""
    async with newsletter.issues.db.read() as repo:
        record = await repo.newsletters.get(callback_data.id)
    return {"issue": record} if record is not None else False


async def on_unknown_issue(query: CallbackQuery) -> None:
    await query.answer(_("There is no such newsletter."), show_alert=True)


async def cmd_newsletter(message: Message, bot: Bot, newsletter: Newsletter) -> None:
    record = await newsletter.issue_for_now()
    await newsletter.preview(
        bot,
        [message.chat.id],
        record,
        lambda: _("📰 The coming newsletter, as subscribers will see it."),
    )


async def on_test(
    query: CallbackQuery,
    issue: NewsletterRecord,
    bot: Bot,
    newsletter: Newsletter,
    event_from_user: User,
) -> None:
    await query.answer()
    await newsletter.test_send(bot, _chat_of(query, event_from_user), issue)


async def on_intro_asked(
    query: CallbackQuery,
    issue: NewsletterRecord,
    state: FSMContext,
    bot: Bot,
    newsletter: Newsletter,
    event_from_user: User,
) -> None:
    if issue.status not in ("draft", "approved"):
        await query.answer(_("This newsletter can no longer be changed."), show_alert=True)
        return
    await enter(state, IntroForm.text, {"newsletter_id": issue.id})
    await query.answer()
    await bot.send_message(
        _chat_of(query, event_from_user),
        _(
            "Send the introduction (up to {limit} characters). Bold, italics and links you "
            "format in Telegram are kept. /cancel keeps the current one."
        ).format(limit=MAX_INTRO),
    )


async def on_approve(
    query: CallbackQuery,
    issue: NewsletterRecord,
    bot: Bot,
    newsletter: Newsletter,
    event_from_user: User,
) -> None:
    async with newsletter.issues.db.transaction() as repo:
        approved = await repo.newsletters.approve(issue.id, event_from_user.id)
    if not approved:
        await query.answer(_("This newsletter is not a draft any more."), show_alert=True)
        return
    await query.answer(_("Approved."))
    if isinstance(query.message, Message):
        await drop_keyboard(query.message)
    chat_id = _chat_of(query, event_from_user)
    at = newsletter.send_at(issue.month)
    if at is not None and newsletter.clock.now() >= at:
        # Its send time has passed (it was waiting for this approval): send it now.
        newsletter.spawn_send(bot, issue.id, {chat_id: None})
        return
    locale = get_i18n().current_locale
    when = event_time(at, locale) if at else "—"
    await bot.send_message(
        chat_id,
        _("✅ The {month} newsletter is approved; it goes out on {when}.").format(
            month=month_label(issue.month, locale), when=when
        ),
    )


async def on_pause(query: CallbackQuery, issue: NewsletterRecord, newsletter: Newsletter) -> None:
    done = await pause_newsletter(newsletter.issues.db, issue.id)
    await query.answer(_("Pausing…") if done else _("It is not being sent."))


async def on_cancel(
    query: CallbackQuery,
    issue: NewsletterRecord,
    bot: Bot,
    newsletter: Newsletter,
    event_from_user: User,
) -> None:
    done = await cancel_newsletter(newsletter.issues.db, issue.id)
    await query.answer(_("Cancelled.") if done else _("It can no longer be cancelled."))
    if done and issue.status == "paused" and query.message is not None:
        # Nothing is running to show it: say so on the same board.
        screens: dict[int, int | None] = {
            _chat_of(query, event_from_user): query.message.message_id
        }
        await newsletter.board(bot, issue, screens).finish(None, "cancelled")


async def on_resume(
    query: CallbackQuery,
    issue: NewsletterRecord,
    bot: Bot,
    newsletter: Newsletter,
    event_from_user: User,
) -> None:
    if issue.status != "paused":
        await query.answer(_("It is not paused."), show_alert=True)
        return
    await query.answer(_("Resuming…"))
    message_id = query.message.message_id if query.message else None
    newsletter.spawn_send(bot, issue.id, {_chat_of(query, event_from_user): message_id})


async def on_intro(message: Message, state: FSMContext, bot: Bot, newsletter: Newsletter) -> None:
    # The message as Telegram formatted it: bold, italics and links typed in the app are kept,
    # and whatever was typed as plain text (an "&", a "<") is escaped, never parsed as HTML.
    text = message.html_text.strip() if message.text else ""
    if not text:
        await answer(message, _("Please send the introduction as text, or /cancel."))
        return
    length = visible_length(text)
    if length > MAX_INTRO:
        await answer(
            message,
            _(
                "The introduction is {characters} long; the limit is {limit}. Shorten it "
                "and send it again, or /cancel: the current introduction is kept."
            ).format(characters=characters(length), limit=MAX_INTRO),
        )
        return
    problem = html_problem(text)
    if problem is not None:  # not expected from Telegram's own entities, but never stored
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
    db = newsletter.issues.db
    async with db.read() as repo:
        record = await repo.newsletters.get(int(data["newsletter_id"]))
    if record is None or record.status not in ("draft", "approved"):
        await answer(message, _("This newsletter can no longer be changed."))
        return
    if record.status == "approved":
        # What was approved has changed: it needs approving again.
        async with db.transaction() as repo:
            await repo.newsletters.set_status(record.id, "draft", only_from=("approved",))
    record = await newsletter.issues.prepare(record.month, intro=text)
    await newsletter.preview(
        bot,
        [message.chat.id],
        record,
        lambda: _("✏ The introduction is saved. The newsletter now reads:"),
    )


async def on_intro_no_longer_coordinator(message: Message, state: FSMContext) -> None:
    """Someone removed from the coordinators while writing an introduction: the dialog ends
    and nothing changes, rather than leaving them in a state no handler of theirs answers."""
    await state.clear()
    await refuse_non_coordinator(message)


async def on_intro_cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await answer(message, _("The introduction is unchanged."))


def build_router() -> Router:
    router = Router(name=__name__)
    coordinators = Router(name=f"{__name__}.coordinators")
    guard(coordinators, HasRole(COORDINATOR))
    coordinators.message.register(cmd_newsletter, commands.NEWSLETTER.filter)
    for action, handler in (
        (IssueAction.test, on_test),
        (IssueAction.intro, on_intro_asked),
        (IssueAction.approve, on_approve),
        (IssueAction.pause, on_pause),
        (IssueAction.cancel, on_cancel),
        (IssueAction.resume, on_resume),
    ):
        coordinators.callback_query.register(
            handler, NewsletterCb.filter(F.action == action), known_issue
        )
    coordinators.callback_query.register(on_unknown_issue, NewsletterCb.filter())
    coordinators.message.register(
        on_intro_cancel, commands.CANCEL.filter, StateFilter(IntroForm.text)
    )
    coordinators.message.register(on_intro, StateFilter(IntroForm.text), TYPED)
    # Everyone else: a refusal, and nothing changes (a router tries its own handlers before its
    # children's, so this is a child placed after the coordinators').
    others = Router(name=f"{__name__}.others")
    others.message.register(on_intro_no_longer_coordinator, StateFilter(IntroForm.text))
    others.message.register(refuse_non_coordinator, commands.NEWSLETTER.filter)
    others.callback_query.register(refuse_non_coordinator, NewsletterCb.filter())
    router.include_routers(coordinators, others)
    return router
