"""The `cso-bot` command: run the bot, chat with it in a terminal, check and export the plan."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TextIO

from bot.config import ConfigError, Settings, load_settings
from bot.heap import pause_collector, resume_collector
from bot.logs import setup_logging
from plan import PlanError, load_plan
from plan.export import plan_to_dict
from plan.plans import load_plans
from plan.progress import default_report_year
from plan.report import report_dict, report_text


def _version() -> str:
    try:
        return metadata.version("cso-bot")
    except metadata.PackageNotFoundError:  # run from a tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cso-bot", description="Telegram bot for Vinnytsia's CSO partnership plan (Annex 4)."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run", help="run the bot: long polling, or a webhook when WEBHOOK_URL is set"
    )
    run.add_argument(
        "--no-scheduler",
        action="store_true",
        help="a pure webhook worker: answer updates, never run the scheduled work",
    )
    commands.add_parser("web", help="serve the public progress website (WEB_HOST, WEB_PORT)")
    chat = commands.add_parser(
        "chat", help="talk to the bot in this terminal (no Telegram needed)"
    )
    chat.add_argument("--user-id", type=int, default=1000, help="your pretend Telegram user id")

    plan = commands.add_parser("plan", help="the plan file").add_subparsers(
        dest="plan_command", required=True
    )
    export = plan.add_parser("export", help="print the plan (PLAN_FILE) as JSON")
    export.add_argument("--format", choices=["json"], default="json")
    check = plan.add_parser("check", help="validate a plan file")
    check.add_argument("file")

    activities = commands.add_parser(
        "activities", help="activities reported against the plan (DATABASE_PATH)"
    ).add_subparsers(dest="activities_command", required=True)
    imports = activities.add_parser(
        "import", help="import approved activities from a CSV file: all rows or none"
    )
    imports.add_argument("file")
    imports.add_argument(
        "--create-orgs", action="store_true", help="add organisations the database does not know"
    )
    exports = activities.add_parser("export", help="write approved activities as CSV")
    exports.add_argument("--out", help="file to write (default: standard output)")

    report = commands.add_parser("report", help="the plan's progress for a year")
    report.add_argument(
        "--year",
        type=int,
        help="calendar year (default: the current year if a loaded plan runs in it, else the "
        "last year of the latest plan)",
    )
    report.add_argument(
        "--plan",
        dest="plan_id",
        help="the id of the plan to report on (default: the plan running in --year)",
    )
    report.add_argument(
        "--format", choices=["text", "json", "csv", "xlsx", "docx"], default="text"
    )
    report.add_argument(
        "--out", help="file to write (default: standard output; required for xlsx and docx)"
    )

    database = commands.add_parser(
        "db", help="the database (DATABASE_PATH or DATABASE_URL)"
    ).add_subparsers(dest="db_command", required=True)
    backup = database.add_parser(
        "backup", help="copy the live SQLite database to FILE safely, even while the bot runs"
    )
    backup.add_argument("file")
    database.add_parser(
        "check",
        help="run SQLite's integrity check (PostgreSQL: the schema is current); exit 1 unless ok",
    )

    from bot.newsletter_cli import add_cli as add_newsletter_cli
    from bot.webhook_cli import add_cli as add_webhook_cli

    add_newsletter_cli(commands)
    add_webhook_cli(commands)

    locales = commands.add_parser("locales", help="interface translations")
    locales.add_subparsers(dest="locales_command", required=True).add_parser(
        "compile", help="compile locales/*.po into .mo files"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        # Until the bot is ready to poll (bot/heap.py): from here on start-up is imports and
        # class creation, whose objects live as long as the process.
        pause_collector()
    # Imported here, after the pause: db brings SQLAlchemy (~0.2 s of imports).
    from db import DatabaseError

    try:
        return _dispatch(args)
    except (ConfigError, PlanError, DatabaseError) as e:
        print(f"cso-bot: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`cso-bot report --format csv | head -1`): end quietly, as Unix
        # tools do; stdout is pointed at /dev/null so the interpreter's final flush is silent.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE
    finally:
        resume_collector()  # settle_heap() did already, unless the run ended before it


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "plan" and args.plan_command == "check":
        plan = load_plan(args.file)
        print(
            f"{args.file}: OK — {plan.id}: {len(plan.directions)} directions, {len(plan.tasks)} "
            f"tasks, {len(plan.measures)} measures, {len(plan.indicators)} indicators"
        )
        return 0
    if args.command == "locales":
        from bot.i18n import compile_catalogs

        for mo in compile_catalogs():
            print(f"compiled {mo}")
        return 0
    settings = load_settings()
    if args.command == "plan":
        plans = load_plans(settings.plan_files)
        # One plan file: its plan, as before; several: the plans in order.
        exported: object = (
            plan_to_dict(plans.latest)
            if len(plans.all) == 1
            else [plan_to_dict(p) for p in plans.all]
        )
        json.dump(exported, sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    if args.command == "db":
        setup_logging("WARNING")
        if args.db_command == "backup":
            target = Path(args.file).expanduser().resolve()
            if target == Path(settings.database_path).resolve():
                raise ConfigError("the backup must not overwrite the database itself")
            if not target.parent.is_dir():
                raise ConfigError(f"{args.file}: its folder does not exist")
        return asyncio.run(_database(settings, args))
    if args.command in ("activities", "report"):
        setup_logging("WARNING")
        return asyncio.run(_reports(settings, args))
    if args.command == "newsletter":
        from bot.newsletter_cli import run_cli as newsletter_cli

        setup_logging("INFO", secrets=[settings.bot_token or ""])
        return asyncio.run(newsletter_cli(settings, args))
    if args.command == "webhook":
        from bot.webhook_cli import run_cli as webhook_cli

        setup_logging("WARNING", secrets=[settings.bot_token or ""])
        return asyncio.run(webhook_cli(settings, args))
    if args.command == "web":
        from bot.web_server import serve_site

        setup_logging(settings.log_level)
        asyncio.run(serve_site(settings))
        return 0
    if args.command == "chat":
        setup_logging("WARNING")
        asyncio.run(_chat(settings, args.user_id))
        return 0
    setup_logging(
        settings.log_level, secrets=[settings.bot_token or "", settings.webhook_secret or ""]
    )
    settings.require_token()
    return asyncio.run(_run(settings, scheduler=not args.no_scheduler))


async def _run(settings: Settings, *, scheduler: bool) -> int:
    from bot.app import build_app, build_bot
    from bot.run import run_polling, run_webhook

    app = await build_app(settings)
    try:
        bot = build_bot(settings, redis=app.redis)
        run = run_webhook if settings.webhook_mode else run_polling
        return await run(app, bot, scheduler=scheduler)
    finally:
        await app.close()


async def _reports(settings: Settings, args: argparse.Namespace) -> int:
    from bot import reports
    from db import Database
    from plan.clock import Clock

    plans = load_plans(settings.plan_files)
    today = Clock(settings.timezone).today()
    plan = plans.current(today)
    if args.command == "report":
        chosen = plans.by_id(args.plan_id) if args.plan_id else None
        if args.plan_id and chosen is None:
            known = ", ".join(p.id for p in plans.all)
            print(f"cso-bot: no plan {args.plan_id!r} is loaded ({known})", file=sys.stderr)
            return 2
        if args.year is not None:
            year = args.year
        elif chosen is not None:
            year = default_report_year(chosen, today)
        else:
            year = plans.report_year(today)
        plan = chosen or plans.for_year(year) or plan
        try:
            reports.check_report_year(plan, year)
        except reports.ReportYearError as e:
            print(f"cso-bot: {e}", file=sys.stderr)
            return 2
        if args.format in ("xlsx", "docx") and args.out is None:
            print(f"cso-bot: --format {args.format} needs --out FILE", file=sys.stderr)
            return 2
    db = await Database.open(settings.database)
    try:
        if args.command == "activities" and args.activities_command == "import":
            try:
                count = await reports.import_activities(
                    db, plans, args.file, args.create_orgs, today=today
                )
            except reports.ActivityImportError as e:
                for error in e.errors:
                    print(error, file=sys.stderr)
                return 2
            print(f"imported {count} activities")
            return 0
        if args.command == "activities":
            with _output(args.out) as out:
                await reports.export_activities(db, plans, out)
            return 0
        progress, waiting = await reports.progress_for(db, plan, year, today)
        if args.format == "docx":
            async with db.read() as repos:
                activities = await repos.public.activities(plan.id, year)
    finally:
        await db.close()
    if args.format == "docx":
        from handlers.report_docx import write_docx

        try:
            write_docx(args.out, plan, year, progress, activities, today)
        except OSError as e:
            raise ConfigError(f"{args.out}: cannot be written ({e.strerror or e})") from e
        return 0
    if args.format == "csv":
        # The very bytes /report sends: the same layout, and the BOM spreadsheets need.
        from handlers.report_files import csv_bytes

        _write_bytes(args.out, csv_bytes(plan, year, progress, today))
        return 0
    if args.format == "xlsx":
        from handlers.report_files import write_xlsx

        try:
            write_xlsx(args.out, plan, year, progress, today)
        except OSError as e:
            raise ConfigError(f"{args.out}: cannot be written ({e.strerror or e})") from e
        return 0
    with _output(args.out) as out:
        if args.format == "json":
            json.dump(
                report_dict(plan, year, progress, waiting), out, ensure_ascii=False, indent=2
            )
            out.write("\n")
        else:
            out.write(report_text(plan, year, progress, waiting))
    return 0


async def _database(settings: Settings, args: argparse.Namespace) -> int:
    from db import Database

    db = await Database.open(settings.database)
    try:
        if args.db_command == "backup":
            target = args.file
            try:
                await db.backup(target)
            except (OSError, sqlite3.Error) as e:
                raise ConfigError(f"{target}: cannot be written ({e})") from e
            print(f"backed up {db.label} to {target}")
            return 0
        result = await db.integrity_check()
    finally:
        await db.close()
    print(f"{db.label}: integrity {result}")
    return 0 if result == "ok" else 1


def _write_bytes(path: str | None, data: bytes) -> None:
    if path is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        Path(path).write_bytes(data)
    except OSError as e:
        raise ConfigError(f"{path}: cannot be written ({e.strerror or e})") from e


@contextmanager
def _output(path: str | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    try:
        with open(path, "w", encoding="utf-8", newline="") as f:
            yield f
    except OSError as e:
        raise ConfigError(f"{path}: cannot be written ({e.strerror or e})") from e


async def _chat(settings: Settings, user_id: int) -> None:
    from bot.app import build_app
    from bot.chat import run_chat

    app = await build_app(settings)
    try:
        await run_chat(app, user_id)
    finally:
        await app.close()


if __name__ == "__main__":
    raise SystemExit(main())
