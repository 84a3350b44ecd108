"""The bot's features, one router each, composed in the order they must see updates."""

from __future__ import annotations

from aiogram import Router

from handlers import fallback, glossary, language, measure, plan_browse, search, start


def get_routers() -> list[Router]:
    """Fresh routers for one dispatcher (a router can belong to one parent only)."""
    return [
        start.build_router(),
        plan_browse.build_router(),
        measure.build_router(),
        glossary.build_router(),
        language.build_router(),
        search.build_router(),
        # Last, because it answers anything no feature claimed: unknown commands, stale buttons.
        fallback.build_router(),
    ]
