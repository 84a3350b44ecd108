"""Routing cost per kind of update: routers visited, filter checks, filters run in a thread.

The update mix of `bench.updates` (the same users and scripts) is fed through the real
dispatcher while aiogram's router propagation and filter calls are counted, so the figures say
how much of the feature tree an update walks before (and after) its handler is found:

- routers: `Router.propagate_event` calls (every router an update enters);
- checks: filter calls (router-level and handler filters alike);
- threads: filters aiogram runs through `asyncio.to_thread` (sync callables: bare `F` filters).

    python -m bench.routing [--updates 3000] [--users 300]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.types import Update

from bench.common import emit
from bench.updates import Driver, add_events, add_members, new_bot, scripts, settings_for
from bot.app import build_app
from bot.i18n import compile_catalogs
from fakes.session import LocalSession


class Tally:
    """What the current update cost in routing, reset per update."""

    def __init__(self) -> None:
        self.routers = 0
        self.checks = 0
        self.threads = 0
        self.raw_state: str | None = None


@contextmanager
def counting(tally: list[Tally]) -> Any:
    """Count router entries and filter calls into tally[0] while the block runs."""
    propagate = Router.propagate_event
    call = FilterObject.call

    async def counted_propagate(self: Router, update_type: str, event: Any, **kwargs: Any) -> Any:
        tally[0].routers += 1
        if self.parent_router is None and "raw_state" in kwargs:
            tally[0].raw_state = kwargs["raw_state"]
        return await propagate(self, update_type, event, **kwargs)

    async def counted_call(self: FilterObject, *args: Any, **kwargs: Any) -> Any:
        tally[0].checks += 1
        tally[0].threads += not self.awaitable
        return await call(self, *args, **kwargs)

    Router.propagate_event = counted_propagate  # type: ignore[method-assign]
    FilterObject.call = counted_call  # type: ignore[method-assign]
    try:
        yield
    finally:
        Router.propagate_event = propagate  # type: ignore[method-assign]
        FilterObject.call = call  # type: ignore[method-assign]


def kind_of(update: Update, raw_state: str | None) -> str:
    if update.callback_query is not None:
        return "button"
    text = (update.message.text if update.message else None) or ""
    if text.startswith("/"):
        return "command"
    return "text in a dialog" if raw_state else "plain text (search)"


async def run(directory: Path, total: int, users: int) -> dict[str, Any]:
    app = await build_app(settings_for(directory))
    await add_members(app, users)
    await add_events(app)
    session = LocalSession(check_html=True)
    bot = new_bot(session)
    driver = Driver(session)
    plans = scripts(users)
    per_kind: dict[str, Counter[str]] = defaultdict(Counter)
    tally = [Tally()]
    fed = 0
    try:
        with counting(tally):
            for user in itertools.cycle(list(plans)):
                if fed >= total:
                    break
                kind, arg = next(plans[user])
                update = driver.message(user, arg or "") if kind == "say" else None
                if update is None:
                    update = driver.callback(user, arg) or driver.message(user, "/start")
                tally[0] = Tally()
                await app.dispatcher.feed_update(bot, update)
                fed += 1
                t = tally[0]
                counts = per_kind[kind_of(update, t.raw_state)]
                counts.update(updates=1, routers=t.routers, checks=t.checks, threads=t.threads)
                session.requests.clear()
    finally:
        await app.close()
    table = {kind: _means(c) for kind, c in sorted(per_kind.items())}
    table["all"] = _means(sum(per_kind.values(), Counter()))
    return {"updates": fed, "users": users, "per_kind": table}


def _means(c: Counter[str]) -> dict[str, float]:
    n = c["updates"] or 1
    return {
        "updates": c["updates"],
        "routers": round(c["routers"] / n, 1),
        "checks": round(c["checks"] / n, 1),
        "threads": round(c["threads"] / n, 2),
    }


async def main_async(total: int, users: int) -> dict[str, Any]:
    compile_catalogs()
    with tempfile.TemporaryDirectory(prefix="cso-routing-") as tmp:
        return await run(Path(tmp), total, users)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=3_000)
    parser.add_argument("--users", type=int, default=300)
    args = parser.parse_args()
    result = asyncio.run(main_async(args.updates, args.users))
    for kind, row in result["per_kind"].items():
        print(
            f"{kind:22} n={row['updates']:5}  routers {row['routers']:5}  "
            f"checks {row['checks']:5}  threads {row['threads']}",
            flush=True,
        )
    emit("routing", result)


if __name__ == "__main__":
    main()
