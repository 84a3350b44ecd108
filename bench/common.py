"""What every benchmark shares: the machine's context, peak memory, percentiles, JSON output."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
PLAN_FILE = ROOT / "data" / "annex4.yaml"
TOKEN = "123456:BENCH-token-value"  # noqa: S105 - not a secret: a local fake API


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """The context every figure is reported with."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        # Other work on the machine skews every figure: say how busy it was.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory in MB (ru_maxrss is in KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(who).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` (0..1) of the values fall (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[rank]


def emit(name: str, result: dict[str, Any]) -> Path:
    """Write bench/out/<name>.json (with the machine) and print the result as one JSON line."""
    OUT.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "machine": machine(), **result}
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(payload, ensure_ascii=False))
    return path


def bench_env(**extra: str) -> dict[str, str]:
    """The environment for a `cso-bot` child: no .env surprises, quiet logs unless asked."""
    env = {k: v for k, v in os.environ.items() if k not in ("WEBHOOK_URL", "WEBHOOK_SECRET")}
    env.update({"PLAN_FILE": str(PLAN_FILE), "LOG_LEVEL": "WARNING", **extra})
    return env


class TripCounter:
    """Counts trips to aiosqlite's threads (every query, fetch, BEGIN and COMMIT is one)."""

    def __init__(self) -> None:
        self.trips = 0
        self._original = aiosqlite.Connection._execute

    def __enter__(self) -> TripCounter:
        original = self._original
        counter = self

        async def counted(conn: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
            counter.trips += 1
            return await original(conn, fn, *args, **kwargs)

        aiosqlite.Connection._execute = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        aiosqlite.Connection._execute = self._original  # type: ignore[method-assign]
