"""`cso-bot newsletter`: its arguments, and the commands, through the same newsletter service
the bot uses (one way to compose and store an issue, one progress board)."""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from db import Database
    from scheduler.newsletter.job import Newsletter

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# An operator's send waits in the terminal for a next try this close; beyond it, it stops and
# says when to run it again (a running bot retries by itself).
CLI_WAIT_AT_MOST = 300.0
FROM_CLI = "approved from the command line"


def add_cli(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    newsletter = commands.add_parser(
        "newsletter", help="the monthly newsletter (DATABASE_PATH, TELEGRAM_API_URL)"
    ).add_subparsers(dest="newsletter_command", required=True)
    send = newsletter.add_parser(
        "send",
        help="send a month's newsletter (composed now if none is stored); run again to resume",
    )
    send.add_argument("--month", required=True, help="YYYY-MM")
    preview = newsletter.add_parser(
        "preview", help="print a month's newsletter as subscribers would read it"
    )
    preview.add_argument("--month", help="YYYY-MM (default: this month)")
    status = newsletter.add_parser("status", help="deliveries per state")
    status.add_argument("--month", help="YYYY-MM (default: every newsletter)")
    create = newsletter.add_parser(
        "create", help="store an approved newsletter from an HTML file (split into messages)"
    )
    create.add_argument("--month", required=True, help="YYYY-MM")
    create.add_argument("--text-file", required=True, help="UTF-8 file of Telegram HTML")
    for name, what in (
        ("approve", "approve a month's draft: the bot sends it at its send time"),
        ("pause", "pause a newsletter being sent (a running send stops within a second)"),
        ("resume", "continue a paused or interrupted newsletter (the same as send)"),
        ("cancel", "cancel a newsletter: what is not sent yet never will be"),
    ):
        newsletter.add_parser(name, help=what).add_argument("--month", required=True)


# -- the commands: everything below imports the bot's machinery only when a command runs ------


def _month(value: str) -> str:
    if not MONTH.match(value):
        raise ConfigError(f"--month must look like 2026-11, got {value!r}")
    return value


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M %Z") if moment else "—"


async def run_cli(settings: Settings, args: argparse.Namespace) -> int:
    from db import Database
    from scheduler.newsletter.delivery import cancel_newsletter, pause_newsletter

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
    db = await Database.open(settings.database)
    try:
        if command == "status":
            return await _status(db, month)
        if command == "preview":
            return await _preview(_newsletter(settings, db), month)
        assert month is not None
        if command == "send":
            await _compose_if_missing(_newsletter(settings, db), month)
        if command == "create":
            assert text is not None
            return await _create(db, month, text)
        async with db.read() as repo:
            newsletter = await repo.newsletters.by_month(month)
        if newsletter is None:
            print(
                f"cso-bot: there is no newsletter for {month}; `cso-bot newsletter send "
                f"--month {month}` composes and sends one, `newsletter create` stores your own",
                file=sys.stderr,
            )
            return 2
        if command in ("approve", "send") and newsletter.status == "draft":
            async with db.transaction() as repo:
                await repo.newsletters.approve(
                    newsletter.id, None, how=FROM_CLI, now=datetime.now(UTC)
                )
            print(f"{month}: approved from the command line", file=sys.stderr)
            if command == "approve":
                return 0
        if command == "approve":
            print(
                f"cso-bot: the {month} newsletter is {newsletter.status}: "
                f"{_NEXT_STEP[newsletter.status].format(month=month)}",
                file=sys.stderr,
            )
            return 2
        if command == "pause":
            done = await pause_newsletter(db, newsletter.id)
        elif command == "cancel":
            done = await cancel_newsletter(db, newsletter.id)
        else:
            return await _send(settings, _newsletter(settings, db), newsletter.id, month)
        if not done:
            print(
                f"cso-bot: the {month} newsletter is {newsletter.status}, it cannot be "
                f"{command}ed: {_NEXT_STEP[newsletter.status].format(month=month)}",
                file=sys.stderr,
            )
            return 2
        print(f"{month}: {command} requested")
        return 0
    finally:
        await db.close()


# What an operator can do with an issue in each status: every refusal ends with it.
_NEXT_STEP = {
    "draft": "approve it with `cso-bot newsletter approve --month {month}` or send it with "
    "`cso-bot newsletter send --month {month}`",
    "approved": "send it now with `cso-bot newsletter send --month {month}`, or let the bot "
    "send it at its send time",
    "sending": "pause it with `cso-bot newsletter pause --month {month}` or cancel it with "
    "`cso-bot newsletter cancel --month {month}`",
    "paused": "continue with `cso-bot newsletter resume --month {month}` or cancel it with "
    "`cso-bot newsletter cancel --month {month}`",
    "cancelled": "a cancelled issue stays cancelled; nothing more can be done with it",
    "sent": "it went out; `cso-bot newsletter status --month {month}` shows its deliveries",
}


def _newsletter(settings: Settings, db: Database) -> Newsletter:
    from bot.app import build_newsletter
    from bot.i18n import build_i18n
    from db.coordinators import Coordinators
    from plan.clock import Clock
    from plan.plans import load_plans
    from scheduler.notifier import Notifier

    i18n = build_i18n()
    clock = Clock(settings.timezone)
    plans = load_plans(settings.plan_files)  # each month's issue with the plan running then
    return build_newsletter(
        settings,
        plans.current(clock.today()),
        db,
        i18n,
        clock,
        Coordinators(db, settings.coordinator_ids),
        Notifier(db, i18n),
        plans,
    )


async def _preview(newsletter: Newsletter, month: str | None) -> int:
    from formats.telegram_text import visible_text
    from scheduler.newsletter.compose import as_text, month_of

    clock = newsletter.clock
    month = month or month_of(clock.now(), clock.timezone)
    async with newsletter.issues.db.read() as repo:
        stored = await repo.newsletters.by_month(month)
    if stored is not None and stored.status != "draft":
        parts, note = list(stored.parts), f"{month}: {stored.status}, as stored"
    else:
        parts, note = await newsletter.issues.compose(month), f"{month}: composed now, not stored"
    print(note, file=sys.stderr)
    print(as_text([visible_text(part) for part in parts]))
    return 0


async def _compose_if_missing(newsletter: Newsletter, month: str) -> None:
    """Sending a month that has no issue yet composes it; the operator's send approves it."""
    async with newsletter.issues.db.read() as repo:
        if await repo.newsletters.by_month(month) is not None:
            return
    record = await newsletter.issues.prepare(month, approved=True)
    print(f"{month}: composed a newsletter of {len(record.parts)} message(s)", file=sys.stderr)


async def _create(db: Database, month: str, text: str) -> int:
    from datetime import UTC, datetime

    from formats.telegram_text import html_problem, split_message

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
            line = (
                f"{n.month} {n.status}: pending {counts['pending']}, sent {counts['sent']}, "
                f"failed {counts['failed']}"
            )
            waiting, next_try = await repo.newsletters.waiting(n.id, datetime.now(UTC))
            if waiting:
                line += f"; Telegram unreachable: {waiting} waiting, next try at {_when(next_try)}"
            lines.append(line)
        active = await repo.subscribers.count_active()
    if month is not None and not newsletters:
        print(f"cso-bot: there is no newsletter for {month}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    print(f"active subscribers: {active}")
    return 0


def _echo(sent: int, failed: int, remaining: int) -> None:
    print(f"sent {sent}, failed {failed}, remaining {remaining}", file=sys.stderr)


async def _send(settings: Settings, newsletter: Newsletter, newsletter_id: int, month: str) -> int:
    """Send with the same progress board coordinators see in the bot, echoed on stderr.

    The bot has one send budget, whoever sends. With REDIS_URL this process takes its slots
    from the budget the running workers share. Without it, a bot running on this machine
    holds the scheduler lease (a lock beside the database): the send is handed to that bot,
    which starts it within LEADER_LEASE seconds; only with no bot running does this process
    send."""
    from bot.app import connect_redis, leader_file
    from scheduler.leader import FileLease

    async with newsletter.issues.db.transaction() as repo:
        status = await repo.newsletters.status(newsletter_id)
        if status in ("sending", "paused"):
            # The operator asks to try again now: deliveries waiting out an outage are due.
            await repo.newsletters.retry_now(newsletter_id)
    if status == "sent":
        print(f"{month}: already sent, nothing to do")
        return 0
    redis = connect_redis(settings)
    lease = FileLease(leader_file(settings)) if redis is None else None
    try:
        if lease is not None and not await lease.acquire():
            return await _hand_over(settings, newsletter, newsletter_id, month, status)
        return await _send_here(settings, newsletter, newsletter_id, month, status, redis)
    finally:
        if lease is not None:
            await lease.release()
        if redis is not None:
            await redis.aclose()


def _cannot_send(month: str, status: str | None) -> int:
    print(
        f"cso-bot: the {month} newsletter is {status}, it cannot be sent: "
        f"{_NEXT_STEP.get(status or '', '').format(month=month)}",
        file=sys.stderr,
    )
    return 2


async def _hand_over(
    settings: Settings, newsletter: Newsletter, newsletter_id: int, month: str, status: str | None
) -> int:
    from scheduler.newsletter.delivery import start_newsletter

    if not await start_newsletter(newsletter.issues.db, newsletter_id):
        return _cannot_send(month, status)
    print(
        f"{month}: the bot running on this machine sends it now (within "
        f"{settings.leader_lease:g} s), with its progress board for coordinators; follow it "
        f"with `cso-bot newsletter status --month {month}`"
    )
    return 0


async def _send_here(
    settings: Settings,
    newsletter: Newsletter,
    newsletter_id: int,
    month: str,
    status: str | None,
    redis: Redis | None,
) -> int:
    from bot.app import build_bot
    from scheduler.newsletter.delivery import DeliveryHandle

    newsletter.options = replace(newsletter.options, wait_at_most=CLI_WAIT_AT_MOST)
    handle = DeliveryHandle()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Finish the sends in flight, so a resumed run repeats none of them.
        loop.add_signal_handler(sig, handle.stop, "signal")
    bot = build_bot(settings, redis=redis)
    try:
        result = await newsletter.run_send(
            bot, newsletter_id, await newsletter.every_coordinator(), handle=handle, echo=_echo
        )
    finally:
        await bot.session.close()
    summary = result.summary
    if summary is None:
        return _cannot_send(month, status)
    print(
        f"{month} {summary.status}: sent {summary.sent}, failed {summary.failed}, "
        f"remaining {summary.remaining}; {summary.messages} messages in {summary.elapsed:.1f} s "
        f"({summary.rate:.1f}/s), {summary.too_many_requests} x 429, {summary.retries} retries"
    )
    if summary.busy_with:
        print(
            f"cso-bot: the {month} newsletter is being sent by {summary.busy_with} right now; "
            f"watch it with `cso-bot newsletter status --month {month}`, or pause it with "
            f"`cso-bot newsletter pause --month {month}` and send it from here",
            file=sys.stderr,
        )
        return 2
    if summary.status == "sending" and summary.waiting:
        print(
            f"cso-bot: Telegram is unreachable: {summary.waiting} waiting, next try at "
            f"{_when(summary.next_try)}; run `cso-bot newsletter send --month {month}` again "
            "(a running bot retries by itself)",
            file=sys.stderr,
        )
        return 1
    if summary.error:
        print(f"cso-bot: paused: Telegram refuses {summary.error}", file=sys.stderr)
    return 0 if summary.status == "sent" else 1
