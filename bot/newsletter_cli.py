"""The `cso-bot newsletter` arguments; kept apart so parsing imports no bot machinery."""

from __future__ import annotations

import argparse


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
        ("pause", "pause a newsletter being sent (a running send stops within a second)"),
        ("resume", "continue a paused or interrupted newsletter (the same as send)"),
        ("cancel", "cancel a newsletter: what is not sent yet never will be"),
    ):
        newsletter.add_parser(name, help=what).add_argument("--month", required=True)
