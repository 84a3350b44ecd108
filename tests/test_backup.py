"""`cso-bot db backup FILE` while the bot runs and writes; the copy restores and is complete."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

from fakes.bot_api import FakeBotAPI
from tests.test_two_processes import ROOT, TOKEN, converse, rows, start_bot, stop_bot


async def cso_bot(database: Path, *args: str) -> tuple[int, str]:
    env = {
        **os.environ,
        "DATABASE_PATH": str(database),
        "PLAN_FILE": str(ROOT / "data/annex4.yaml"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args,
        cwd=str(database.parent), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


async def test_backup_of_a_running_bot_restores_complete(tmp_path: Path) -> None:
    live = tmp_path / "live.sqlite3"
    backup = tmp_path / "backups" / "copy.sqlite3"
    backup.parent.mkdir()
    async with FakeBotAPI(TOKEN) as api:
        bot = await start_bot(api, live)
        try:
            # Known before the backup: these must be in it.
            await converse(api, range(3001, 3021), ["/start", "/subscribe"])
            # The backup runs while other users keep the bot writing.
            busy = asyncio.ensure_future(
                converse(api, range(4001, 4031), ["/start", "/subscribe", "/activity", "/plan"])
            )
            code, output = await cso_bot(live, "db", "backup", str(backup))
            await busy
        finally:
            await stop_bot(bot)
    assert code == 0, output
    assert str(backup) in output

    # Restore: copy it back where the bot looks for its database, and check it.
    restored = tmp_path / "restored" / "cso-bot.sqlite3"
    restored.parent.mkdir()
    shutil.copyfile(backup, restored)
    code, output = await cso_bot(restored, "db", "check")
    assert code == 0 and "integrity ok" in output, output
    assert rows(restored, "PRAGMA integrity_check") == [("ok",)]
    subscribed = {r[0] for r in rows(restored, "SELECT user_id FROM subscribers WHERE active")}
    assert set(range(3001, 3021)) <= subscribed
    users = {r[0] for r in rows(restored, "SELECT id FROM users")}
    assert set(range(3001, 3021)) <= users
    # The live database kept everything written during the backup.
    assert set(range(4001, 4031)) <= {r[0] for r in rows(live, "SELECT id FROM users")}


async def test_backup_refuses_to_overwrite_the_database(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    code, output = await cso_bot(database, "db", "backup", str(database))
    assert code == 2 and "must not overwrite" in output
    code, output = await cso_bot(database, "db", "backup", str(tmp_path / "nowhere" / "x.db"))
    assert code == 2 and "does not exist" in output
