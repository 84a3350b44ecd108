"""Report at scale: `cso-bot report --format json` over 1k, 10k and 100k approved activities.

Activities from 300 organisations spread over the plan's period are inserted in one transaction
of the db layer (executemany on the unit of work's connection). For each size the whole CLI runs
as a child process (wall time, and the child's own peak RSS from os.wait4), and the progress
computation is timed alone: loading the counted activities, then plan_progress over them.

    python -m bench.report [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import bench_env, emit
from db import Database
from plan import Plan, load_plan
from plan.progress import plan_progress

ORGANISATIONS = 300
TODAY = date(2025, 12, 31)


async def fill(path: Path, plan: Plan, count: int, seed: int = 7) -> None:
    """count approved activities of ORGANISATIONS organisations, dates over the whole plan."""
    rng = random.Random(seed)
    indicators = plan.indicators
    days = (plan.end - plan.start).days
    now = datetime.now(UTC).isoformat(timespec="seconds")
    db = await Database.open(path)
    try:
        async with db.transaction() as repo:
            orgs = [
                (await repo.organisations.create(f"ГО {n}", status="verified")).id
                for n in range(ORGANISATIONS)
            ]
            rows = []
            for n in range(count):
                indicator = rng.choice(indicators)
                rows.append(
                    (
                        plan.id,
                        indicator.id,
                        indicator.measure_code,
                        rng.choice(orgs),
                        (plan.start + timedelta(days=rng.randint(0, days))).isoformat(),
                        rng.randint(1, 3),
                        rng.randint(0, 12),
                        rng.randint(0, 3),
                        f"Захід {n}",
                        now,
                    )
                )
            await repo.conn.executemany(
                "INSERT INTO activities (plan_id, indicator_id, measure_code, organisation_id, "
                "date, quantity, cso_participants, council_participants, title, status, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'approved', ?10, ?10)",
                rows,
            )
    finally:
        await db.close()


def run_cli(path: Path, year: int) -> dict[str, Any]:
    """The report as users run it: a whole process, timed, with its own peak RSS (wait4)."""
    env = bench_env(DATABASE_PATH=str(path))
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "bot.cli", "report", "--format", "json", "--year", str(year)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
        )
        assert child.stdout is not None
        out = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        child.stdout.close()
        if child.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"cso-bot report failed: {err.read().decode()}")
    return {"cli_s": wall, "cli_peak_rss_mb": usage.ru_maxrss / 1024, "json_bytes": len(out)}


async def progress_alone(path: Path, plan: Plan, year: int) -> dict[str, Any]:
    db = await Database.open(path)
    try:
        t0 = time.perf_counter()
        async with db.read() as repo:
            activities = await repo.activities.counted(plan.id)
        loaded = time.perf_counter() - t0
        t1 = time.perf_counter()
        plan_progress(plan, activities, year, TODAY)
        computed = time.perf_counter() - t1
        tracemalloc.start()
        plan_progress(plan, activities, year, TODAY)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        await db.close()
    return {
        "load_s": loaded,
        "plan_progress_s": computed,
        "load_and_progress_s": loaded + computed,
        "plan_progress_peak_mb": peak / 2**20,
        "activities": len(activities),
    }


async def main_async(sizes: list[int]) -> dict[str, Any]:
    plan = load_plan(Path(bench_env()["PLAN_FILE"]))
    year = max(plan.years)
    runs = []
    with tempfile.TemporaryDirectory(prefix="cso-bench-report-") as tmp:
        for size in sizes:
            path = Path(tmp) / f"report-{size}.sqlite3"
            t0 = time.perf_counter()
            await fill(path, plan, size)
            filled = time.perf_counter() - t0
            run = {"activities": size, "insert_s": filled}
            run.update(run_cli(path, year))
            run.update(await progress_alone(path, plan, year))
            runs.append(run)
    first, last = runs[0], runs[-1]
    growth = last["activities"] / first["activities"]
    return {
        "year": year,
        "organisations": ORGANISATIONS,
        "runs": runs,
        # Time per activity at the largest size over that at the smallest: <= 1 is sub-linear.
        "cli_growth_vs_linear": (last["cli_s"] / first["cli_s"]) / growth,
        "progress_growth_vs_linear": (last["load_and_progress_s"] / first["load_and_progress_s"])
        / growth,
        "targets": {"cli_s": 1.0, "progress_s": 0.2, "peak_rss_mb": 200},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    emit("report", asyncio.run(main_async(sizes)))


if __name__ == "__main__":
    main()
