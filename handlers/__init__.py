"""The bot's features, one router each, composed in the order they must see updates."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    activity,
    coordinators,
    events,
    fallback,
    glossary,
    language,
    measure,
    my_reports,
    newsletter_admin,
    newsletters,
    organisations,
    plan_browse,
    progress,
    projects,
    registration,
    report,
    review,
    search,
    start,
    subscription,
)
from handlers.forms import leave_on_commands
from handlers.routing import index_routes, route_by_table


def get_routers() -> list[Router]:
    """Fresh routers for one dispatcher (a router can belong to one parent only), under one
    root whose middleware makes any command or the main menu leave a form first.

    The features keep their order under one router that sends each update straight to the
    features declaring a handler for it (handlers/routing.py), so an update enters the root,
    that router and the feature(s) that may take it, not every feature's."""
    root = Router(name=__name__)
    leave_on_commands(root)
    features = Router(name=f"{__name__}.features")
    features.include_routers(*_features())
    root.include_router(features)
    index_routes(root)
    route_by_table(features)
    return [root]


def _features() -> list[Router]:
    return [
        start.build_router(),
        plan_browse.build_router(),
        measure.build_router(),
        glossary.build_router(),
        language.build_router(),
        registration.build_router(),
        organisations.build_router(),
        coordinators.build_router(),
        subscription.build_router(),
        my_reports.build_router(),
        activity.build_router(),
        review.build_router(),
        events.build_router(),
        projects.build_router(),
        report.build_router(),
        progress.build_router(),
        newsletter_admin.build_router(),
        newsletters.build_router(),
        search.build_router(),
        # Last, because it answers anything no feature claimed: unknown commands, stale buttons.
        fallback.build_router(),
    ]
