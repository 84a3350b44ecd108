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
from handlers.routing import index_routes


def get_routers() -> list[Router]:
    """Fresh routers for one dispatcher (a router can belong to one parent only), under one
    root whose middleware makes any command or the main menu leave a form first.

    The features keep their order, nested in consecutive groups: a group, like a feature, is
    skipped whole when no handler in it is declared for the update (handlers/routing.py), so
    an update enters a handful of routers instead of every feature's."""
    root = Router(name=__name__)
    leave_on_commands(root)
    root.include_routers(*_groups(_features()))
    index_routes(root)
    return [root]


GROUP_SIZE = 4  # ~sqrt(features): the fewest routers entered on the way to the last one


def _groups(features: list[Router]) -> list[Router]:
    groups = []
    for n in range(0, len(features), GROUP_SIZE):
        group = Router(name=f"{__name__}.group{n // GROUP_SIZE}")
        group.include_routers(*features[n : n + GROUP_SIZE])
        groups.append(group)
    return groups


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
