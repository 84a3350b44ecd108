"""What a start imports: a bot whose database is current and which has no REDIS_URL never imports
Alembic or redis (each a share of the start-up time, issue 14); with REDIS_URL it does."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from db import Database

ROOT = Path(__file__).resolve().parent.parent

# Builds the app as `cso-bot run` does, on SQLite, then again with REDIS_URL (the client connects
# on first use, so no server is needed); prints the watched modules imported after each.
BUILD_TWICE = """
import asyncio, dataclasses, sys
from bot.app import build_app
from bot.config import Secret, Settings

WATCHED = ("alembic", "redis", "asyncpg")

async def main() -> None:
    settings = Settings(
        bot_token=Secret("123456:TEST-token"),
        database_path=sys.argv[1],
        plan_file=sys.argv[2],
    )
    for redis_url in (None, Secret("redis://127.0.0.1:1/0")):
        app = await build_app(dataclasses.replace(settings, redis_url=redis_url))
        await app.close()
        print(" ".join(m for m in WATCHED if m in sys.modules) or "-")

asyncio.run(main())
"""


def _python(code: str, *args: str, env: dict[str, str] | None = None) -> str:
    """What a fresh interpreter running code prints (it must exit 0)."""
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


async def _create(path: Path) -> None:
    await (await Database.open(path)).close()  # created and migrated: current from now on


def test_a_start_on_a_current_database_imports_neither_alembic_nor_redis(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    asyncio.run(_create(path))
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    out = _python(BUILD_TWICE, str(path), str(ROOT / "data" / "annex4.yaml"), env=env)
    assert out.split("\n")[:2] == ["-", "redis"]


def test_the_cli_imports_the_database_only_once_it_has_a_command() -> None:
    """bot.cli imports db (and with it SQLAlchemy) in main(), after `cso-bot run` has paused the
    collector for its start-up (bot/heap.py), not when the module is imported."""
    code = "import sys, bot.cli; print('sqlalchemy' in sys.modules, 'db' in sys.modules)"
    assert _python(code).split() == ["False", "False"]


def test_the_collector_is_paused_for_start_up_and_settled_after() -> None:
    """bot/heap.py: paused, no automatic collection; settled, the heap is frozen (out of the
    collector's view) and the collector runs again."""
    import gc

    from bot.heap import pause_collector, resume_collector, settle_heap

    was_enabled, frozen = gc.isenabled(), gc.get_freeze_count()
    try:
        pause_collector()
        assert not gc.isenabled()
        settle_heap()
        assert gc.isenabled()
        assert gc.get_freeze_count() > frozen
        pause_collector()
        resume_collector()
        assert gc.isenabled()
    finally:
        gc.unfreeze()  # this test process goes on as it was
        if not was_enabled:
            gc.disable()


async def test_the_collector_runs_again_while_the_bot_api_is_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A start that waits for the Bot API (maybe for hours) does not wait with the collector
    paused: the first failed try resumes it."""
    import gc

    from aiogram.exceptions import TelegramNetworkError
    from aiogram.methods import GetMe

    import bot.run
    from bot.heap import pause_collector

    class FlakyBot:
        tries = 0

        async def get_me(self) -> object:
            self.tries += 1
            if self.tries == 1:
                raise TelegramNetworkError(method=GetMe(), message="unreachable")
            return object()

    monkeypatch.setattr(bot.run, "START_DELAYS", (0.0,))
    loop = asyncio.get_running_loop()
    pause_collector()
    try:
        assert await bot.run.reach_api(FlakyBot(), bot.run.Stop())  # type: ignore[arg-type]
        assert gc.isenabled()
    finally:
        gc.enable()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
