"""Start-up: from spawning `cso-bot run` to its first getUpdates on a local fake Bot API.

Each start finds its database current (a copy of one migrated beforehand), as every start but
a bot's first does. Also times the bare interpreter (`python -c pass`) and `import aiogram`
beside each start, as the floor any aiogram bot pays, the first answer to /start after the
first getUpdates, and the process's resident memory once it is idle after that answer. Beside
the wall times, the CPU time (user + system) each process used by then: on a machine others
share, wall time is mostly waiting for a core, and the CPU ratio is the steadier one.

    python -m bench.startup [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import TOKEN, bench_env, emit
from fakes.bot_api import FakeBotAPI

IDLE_SECONDS = 2.0  # after the first answer, before the resident memory is read


def _timed(*code: str) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of `python *code`."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, *code], env=bench_env())  # noqa: S603
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise subprocess.CalledProcessError(child.returncode, code)
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far (user + system, all its threads); NaN without /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    # utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def current_database(directory: Path) -> Path:
    """A database file at the schema's head, as a bot finds it on every start but its first
    (a restart, a deploy): each timed start gets a copy, so none creates the schema."""
    from db import Database

    path = directory / "current.sqlite3"
    db = await Database.open(path)
    await db.close()
    return path


async def one_start(directory: Path, database: Path) -> dict[str, float]:
    copy = directory / "startup.sqlite3"
    shutil.copyfile(database, copy)
    async with FakeBotAPI(TOKEN) as api:
        env = bench_env(BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.url, DATABASE_PATH=str(copy))
        started = time.monotonic()
        log = directory / "bot.log"
        # Queued before the start, so the first getUpdates returns it at once (an empty one
        # would be held for aiogram's long-poll timeout before it is recorded).
        api.push_message(777, "/start")
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run",
                env=env, stdout=out, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        try:
            poll = asyncio.ensure_future(api.wait_for(lambda c: c.method == "getUpdates", 120))
            exited = asyncio.ensure_future(process.wait())
            await asyncio.wait({poll, exited}, return_when=asyncio.FIRST_COMPLETED)
            if not poll.done():
                poll.cancel()
                raise RuntimeError(f"cso-bot run exited early:\n{log.read_text()[-3000:]}")
            exited.cancel()
            first_poll = poll.result()
            cpu_to_poll = cpu_seconds(process.pid)
            # Calls are recorded once answered; .at is when the bot asked (time.monotonic()).
            polling = first_poll.at - started
            try:
                await api.wait_for_reply(777, timeout=60)
            except TimeoutError as e:
                raise RuntimeError(f"no answer to /start:\n{log.read_text()[-3000:]}") from e
            answered = time.monotonic() - started
            await asyncio.sleep(IDLE_SECONDS)
            idle_rss = resident_mb(process.pid)
        finally:
            if process.returncode is None:
                process.terminate()
                await process.wait()
    return {
        "to_first_getupdates_s": polling,
        # read once the fake API has answered that getUpdates: a little after it was asked
        "cpu_to_first_getupdates_s": cpu_to_poll,
        "to_first_answer_s": answered,
        "idle_rss_mb": idle_rss,
    }


def resident_mb(pid: int) -> float:
    """The process's resident memory now (VmRSS), in MB; NaN where /proc is not there."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def main_async(runs: int) -> dict[str, Any]:
    interpreter, _ = _timed("-c", "pass")
    results = []
    held = tempfile.TemporaryDirectory(prefix="cso-bench-db-")
    database = await current_database(Path(held.name))
    for n in range(runs):
        # Each start beside its own timing of the imports, so load hits both alike.
        aiogram, aiogram_cpu = _timed("-c", "import aiogram")
        types, types_cpu = _timed("-c", "import aiogram.types")
        imports = {
            "import_aiogram_s": aiogram,
            "import_aiogram_cpu_s": aiogram_cpu,
            "import_aiogram_types_s": types,
            "import_aiogram_types_cpu_s": types_cpu,
        }
        with tempfile.TemporaryDirectory(prefix="cso-bench-start-") as tmp:
            results.append({**await one_start(Path(tmp), database), **imports})
        del n
    held.cleanup()
    polls = [r["to_first_getupdates_s"] for r in results]
    aiogram = statistics.median(r["import_aiogram_s"] for r in results)
    aiogram_types = statistics.median(r["import_aiogram_types_s"] for r in results)
    return {
        "runs": results,
        "median_to_first_getupdates_s": statistics.median(polls),
        "median_to_first_answer_s": statistics.median(r["to_first_answer_s"] for r in results),
        "python_startup_s": interpreter,
        "import_aiogram_types_s": aiogram_types,
        "import_aiogram_s": aiogram,
        "ratio_to_import_aiogram": statistics.median(polls) / aiogram,
        "ratio_to_import_aiogram_types": statistics.median(polls) / aiogram_types,
        "median_idle_rss_mb": statistics.median(r["idle_rss_mb"] for r in results),
        "median_cpu_to_first_getupdates_s": statistics.median(
            r["cpu_to_first_getupdates_s"] for r in results
        ),
        "median_import_aiogram_cpu_s": statistics.median(
            r["import_aiogram_cpu_s"] for r in results
        ),
        "cpu_ratio_to_import_aiogram": statistics.median(
            r["cpu_to_first_getupdates_s"] / r["import_aiogram_cpu_s"] for r in results
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    emit("startup", asyncio.run(main_async(parser.parse_args().runs)))


if __name__ == "__main__":
    main()
