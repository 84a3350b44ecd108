"""What every benchmark shares: the machine's context, peak memory, percentiles, JSON output."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
from asyncio import selector_events
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

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


# The first message asyncpg writes says what a trip is for: a simple query (asyncpg sends its
# BEGIN, COMMIT and ROLLBACK so), Parse (preparing a statement), Bind (executing one).
PG_MESSAGES = {b"Q": "begin/commit", b"P": "prepare", b"B": "statement"}


class TripCounter:
    """Counts round trips to the database while it is entered, on either engine, and what
    they were for (`kinds`).

    SQLite: one trip is one hand-off to aiosqlite's thread (every query, fetch, BEGIN and COMMIT
    is one). PostgreSQL: one trip is one write of asyncpg to the server's socket, after which it
    waits for the answer (an executemany's pipelined batches count one each): BEGIN, COMMIT or
    ROLLBACK; a statement prepared on its first use on a connection (SQLAlchemy keeps them per
    connection); each execution; and the pool's ping when a connection is taken (pool_pre_ping:
    `;`, inside BEGIN … ROLLBACK on a connection that is not autocommit). Only connections on
    the default asyncio event loop are seen."""

    def __init__(self) -> None:
        self.trips = 0
        self.kinds: Counter[str] = Counter()
        self._pinging = False
        self._original = aiosqlite.Connection._execute
        self._ping = AsyncAdapt_asyncpg_connection._async_ping
        self._transport: Any = getattr(selector_events, "_SelectorSocketTransport")  # noqa: B009
        # Python 3.11's writelines is WriteTransport's, which calls write: count write alone.
        self._writes = {
            name: self._transport.__dict__[name]
            for name in ("write", "writelines")
            if name in self._transport.__dict__
        }

    def __enter__(self) -> TripCounter:
        original, ping = self._original, self._ping
        counter = self

        async def counted(conn: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
            counter.trips += 1
            counter.kinds["sqlite"] += 1
            return await original(conn, fn, *args, **kwargs)

        async def pinged(conn: Any) -> Any:
            counter._pinging = True
            try:
                return await ping(conn)
            finally:
                counter._pinging = False

        aiosqlite.Connection._execute = counted  # type: ignore[method-assign,assignment]
        AsyncAdapt_asyncpg_connection._async_ping = pinged  # type: ignore[method-assign]
        for name, write in self._writes.items():
            setattr(self._transport, name, self._counting(write))
        return self

    def _counting(self, write: Any) -> Any:
        counter = self

        def counted(transport: Any, data: Any) -> None:
            if isinstance(transport.get_protocol(), asyncpg.protocol.Protocol):
                counter.trips += 1
                first = bytes(data[:1]) if not isinstance(data, list) else bytes(data[0][:1])
                kind = "pool ping" if counter._pinging else PG_MESSAGES.get(first, "other")
                counter.kinds[kind] += 1
            write(transport, data)

        return counted

    def __exit__(self, *exc: object) -> None:
        aiosqlite.Connection._execute = self._original  # type: ignore[method-assign]
        AsyncAdapt_asyncpg_connection._async_ping = self._ping  # type: ignore[method-assign]
        for name, write in self._writes.items():
            setattr(self._transport, name, write)
