"""The newsletter in the running bot and in `cso-bot newsletter`: settings, button, progress."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from bot.config import ConfigError, Settings
from db import Database
from formats.telegram_text import html_problem, split_message, visible_text
from plan import Plan, load_plan
from scheduler.newsletter.compose import as_text, compose, gather, month_of
from scheduler.newsletter.delivery import (
    DeliveryHandle,
    DeliveryOptions,
    DeliveryRunner,
    ProgressCallback,
    cancel_newsletter,
    pause_newsletter,
    resume_interrupted,
    send_newsletter,
)
from scheduler.newsletter.job import UNSUBSCRIBE_LABEL, record_sent_issues, unsubscribe_keyboard

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
PROGRESS_EVERY = 2.0  # seconds between two edits of a progress message


def delivery_options(settings: Settings) -> DeliveryOptions:
    return DeliveryOptions(
        rate=settings.newsletter_rate, concurrency=settings.newsletter_concurrency
    )


def newsletter_markup(i18n: I18n) -> InlineKeyboardMarkup:
    # Newsletters are written in Ukrainian, so their button is too.
    return unsubscribe_keyboard(i18n.gettext(UNSUBSCRIBE_LABEL, locale=i18n.default_locale))


class ProgressMessage:
    """One coordinator message, sent once and then edited at most every PROGRESS_EVERY s."""

    def __init__(self, bot: Bot, chat_id: int, i18n: I18n, month: str) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.i18n = i18n
        self.month = month
        self.message_id: int | None = None
        self._last_edit = 0.0
        self._last_text = ""

    async def __call__(self, sent: int, failed: int, remaining: int) -> None:
        gettext = self.i18n.gettext
        locale = self.i18n.default_locale
        text = gettext(
            "Newsletter {month}: sent {sent}, failed {failed}, remaining {remaining}.",
            locale=locale,
        ).format(month=self.month, sent=sent, failed=failed, remaining=remaining)
        final = remaining == 0
        if text == self._last_text or (
            not final and time.monotonic() - self._last_edit < PROGRESS_EVERY
        ):
            return
        self._last_text, self._last_edit = text, time.monotonic()
        if self.message_id is None:
            message = await self.bot.send_message(self.chat_id, text)
            self.message_id = message.message_id
            return
        try:
            await self.bot.edit_message_text(
                text, chat_id=self.chat_id, message_id=self.message_id
            )
        except TelegramBadRequest as e:
            if "message is not modified" not in e.message:
                raise


async def start_newsletters(
    bot: Bot, db: Database, config: Settings, i18n: I18n, deliveries: DeliveryRunner
) -> None:
    """Start-up work: continue, in the background, any newsletter a crash left in 'sending'."""

    async def progress_for(newsletter_id: int) -> ProgressCallback | None:
        async with db.read() as repo:
            newsletter = await repo.newsletters.get(newsletter_id)
        if newsletter is None or not config.coordinator_ids:
            return None
        reporters = [
            ProgressMessage(bot, c, i18n, newsletter.month) for c in config.coordinator_ids
        ]

        async def report(sent: int, failed: int, remaining: int) -> None:
            for reporter in reporters:
                with contextlib.suppress(TelegramAPIError):
                    await reporter(sent, failed, remaining)

        return report

    deliveries.spawn(
        resume_interrupted(
            db,
            bot,
            delivery_options(config),
            reply_markup=newsletter_markup(i18n),
            handle=deliveries.handle,
            progress_for=progress_for,
        )
    )


async def stop_newsletters(deliveries: DeliveryRunner) -> None:
    await deliveries.shutdown()


# -- `cso-bot newsletter` ----------------------------------------------------------------------


def _month(value: str) -> str:
    if not MONTH.match(value):
        raise ConfigError(f"--month must look like 2026-11, got {value!r}")
    return value


async def run_cli(settings: Settings, args: argparse.Namespace) -> int:
    command = args.newsletter_command
    month = _month(args.month) if args.month else None
    text = None
    if command == "create":
        try:
            text = await asyncio.to_thread(Path(args.text_file).read_text, encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"{args.text_file}: cannot be read ({e})") from e
    if command in ("send", "resume"):
        settings.require_token()
    db = await Database.open(settings.database_path)
    try:
        if command == "status":
            return await _status(db, month)
        if command == "preview":
            return await _preview(settings, db, month)
        assert month is not None
        if command == "send":
            await _compose_if_missing(settings, db, month)
        if command == "create":
            assert text is not None
            return await _create(db, month, text)
        async with db.read() as repo:
            newsletter = await repo.newsletters.by_month(month)
        if newsletter is None:
            print(f"cso-bot: there is no newsletter for {month}", file=sys.stderr)
            return 2
        if command == "pause":
            done = await pause_newsletter(db, newsletter.id)
        elif command == "cancel":
            done = await cancel_newsletter(db, newsletter.id)
        else:
            return await _send(settings, db, newsletter.id, month, newsletter.status)
        if not done:
            print(f"cso-bot: the {month} newsletter is {newsletter.status}", file=sys.stderr)
            return 2
        print(f"{month}: {command} requested")
        return 0
    finally:
        await db.close()


def _composer(settings: Settings) -> tuple[Plan, Callable[[str], str]]:
    from bot.i18n import build_i18n

    i18n = build_i18n()
    return load_plan(settings.plan_file), lambda text: i18n.gettext(
        text, locale=i18n.default_locale
    )


async def _compose(settings: Settings, db: Database, month: str) -> list[str]:
    """The month's issue as it would be composed now (events, projects, newly met targets)."""
    plan, translate = _composer(settings)
    now = datetime.now(settings.timezone)
    return compose(await gather(db, plan, month, now, settings.timezone), translate)


async def _preview(settings: Settings, db: Database, month: str | None) -> int:
    month = month or month_of(datetime.now(settings.timezone), settings.timezone)
    async with db.read() as repo:
        stored = await repo.newsletters.by_month(month)
    if stored is not None and stored.status != "draft":
        parts, note = list(stored.parts), f"{month}: {stored.status}, as stored"
    else:
        parts, note = await _compose(settings, db, month), f"{month}: composed now, not stored"
    print(note, file=sys.stderr)
    print(as_text([visible_text(part) for part in parts]))
    return 0


async def _compose_if_missing(settings: Settings, db: Database, month: str) -> None:
    """Sending a month that has no issue yet composes it; the operator's send approves it."""
    async with db.read() as repo:
        if await repo.newsletters.by_month(month) is not None:
            return
    parts = await _compose(settings, db, month)
    async with db.transaction() as repo:
        if await repo.newsletters.by_month(month) is None:
            await repo.newsletters.create(month, parts, datetime.now(UTC), status="approved")
    print(f"{month}: composed a newsletter of {len(parts)} message(s)", file=sys.stderr)


async def _create(db: Database, month: str, text: str) -> int:
    if not text.strip():
        print("cso-bot: the newsletter text is empty", file=sys.stderr)
        return 2
    parts = split_message(text.strip())
    for number, part in enumerate(parts, start=1):
        # Telegram would refuse the part for every subscriber alike: refuse it here, once.
        problem = html_problem(part)
        if problem is not None:
            print(
                f"cso-bot: message {number} is not valid Telegram HTML: {problem}", file=sys.stderr
            )
            return 2
    async with db.transaction() as repo:
        if await repo.newsletters.by_month(month) is not None:
            print(f"cso-bot: a newsletter for {month} exists already", file=sys.stderr)
            return 2
        await repo.newsletters.create(month, parts, datetime.now(UTC), status="approved")
    print(f"{month}: approved newsletter of {len(parts)} message(s)")
    return 0


async def _status(db: Database, month: str | None) -> int:
    async with db.read() as repo:
        if month is None:
            newsletters = await repo.newsletters.all()
        else:
            one = await repo.newsletters.by_month(month)
            newsletters = [one] if one else []
        lines = []
        for n in newsletters:
            counts = await repo.newsletters.counts(n.id)
            lines.append(
                f"{n.month} {n.status}: pending {counts['pending']}, sent {counts['sent']}, "
                f"failed {counts['failed']}"
            )
        active = await repo.subscribers.count_active()
    if month is not None and not newsletters:
        print(f"cso-bot: there is no newsletter for {month}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    print(f"active subscribers: {active}")
    return 0


async def _send(
    settings: Settings, db: Database, newsletter_id: int, month: str, status: str
) -> int:
    from bot.app import build_bot
    from bot.i18n import build_i18n

    if status == "sent":
        print(f"{month}: already sent, nothing to do")
        return 0
    handle = DeliveryHandle()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Finish the sends in flight, so a resumed run repeats none of them.
        loop.add_signal_handler(sig, handle.stop, "signal")
    last_print = 0.0

    async def progress(sent: int, failed: int, remaining: int) -> None:
        nonlocal last_print
        if time.monotonic() - last_print >= PROGRESS_EVERY or remaining == 0:
            last_print = time.monotonic()
            print(f"sent {sent}, failed {failed}, remaining {remaining}", file=sys.stderr)

    bot = build_bot(settings)
    try:
        summary = await send_newsletter(
            db,
            bot,
            newsletter_id,
            delivery_options(settings),
            reply_markup=newsletter_markup(build_i18n()),
            on_progress=progress,
            handle=handle,
        )
    finally:
        await bot.session.close()
    if summary is None:
        print(f"cso-bot: the {month} newsletter is {status}: not sendable", file=sys.stderr)
        return 2
    print(
        f"{month} {summary.status}: sent {summary.sent}, failed {summary.failed}, "
        f"remaining {summary.remaining}; {summary.messages} messages in {summary.elapsed:.1f} s "
        f"({summary.rate:.1f}/s), {summary.too_many_requests} x 429, {summary.retries} retries"
    )
    if summary.busy_with:
        print(
            f"cso-bot: the {month} newsletter is being sent by {summary.busy_with} right now",
            file=sys.stderr,
        )
        return 2
    if summary.error:
        print(f"cso-bot: paused: Telegram refuses {summary.error}", file=sys.stderr)
    if summary.status != "sent":
        return 1
    # Measure 2.1.3 counts sent issues: record this one now rather than at the bot's next check.
    await record_sent_issues(db, load_plan(settings.plan_file), settings.timezone)
    return 0
