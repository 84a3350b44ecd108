"""The bot's features, one router each, composed in the order they must see updates."""

from __future__ import annotations

from aiogram import Router

from handlers import fallback, glossary, language, measure, plan_browse, search, start


def get_routers() -> list[Router]:
    return [
        start.router,
        plan_browse.router,
        measure.router,
        glossary.router,
        language.router,
        search.router,
        # Last, because it answers anything no feature claimed: unknown commands, stale buttons.
        fallback.router,
    ]
