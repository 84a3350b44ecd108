"""The site's aiohttp routes: each page reads committed data, renders HTML and sends it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date
from importlib import resources

from aiohttp import web

from db import Database
from formats.ics import CalendarEvent, calendar
from formats.site import event_ics_path, measure_path, plan_path
from plan.clock import Clock
from plan.model import Plan
from web import source
from web.render import render

_MONTH = re.compile(r"^\d{4}-\d{2}$")
_CSS = "text/css"
_HTML = "text/html"


@dataclass(frozen=True)
class Site:
    """What the pages read: the loaded plans, the database and the city's clock."""

    plans: Sequence[Plan]
    db: Database
    clock: Clock

    def plan(self, plan_id: str) -> Plan:
        for plan in self.plans:
            if plan.id == plan_id:
                return plan
        raise _not_found()

    def year(self, request: web.Request, plan: Plan) -> int:
        raw = request.query.get("year")
        if raw is None:
            return source.default_year(plan, self.clock.today())
        if not raw.isdigit() or int(raw) not in plan.years:
            raise _not_found()
        return int(raw)


SITE = web.AppKey("site", Site)


def _site(request: web.Request) -> Site:
    return request.app[SITE]


def _page(template: str, status: int = 200, **context: object) -> web.Response:
    return web.Response(
        text=render(template, **context), status=status, content_type=_HTML, charset="utf-8"
    )


def _not_found() -> web.HTTPNotFound:
    return web.HTTPNotFound(text=render("not_found.html", plans=()), content_type=_HTML)


def _years(plan: Plan, year: int, path: str) -> list[tuple[int, str, bool]]:
    return [(y, f"{path}?year={y}", y == year) for y in plan.years]


async def index(request: web.Request) -> web.Response:
    site = _site(request)
    today = site.clock.today()
    cards = []
    for plan in site.plans:
        year = source.default_year(plan, today)
        progress = await source.year_progress(site.db, plan, year, today)
        whole = source.summaries(progress, plan)[""]
        cards.append(
            {
                "plan": plan,
                "year": year,
                "summary": whole,
                "share": whole.met / whole.total if whole.total else 0.0,
                "url": plan_path(plan.id, year),
            }
        )
    return _page("index.html", cards=cards, plans=site.plans)


async def plan_page(request: web.Request) -> web.Response:
    site = _site(request)
    plan = site.plan(request.match_info["plan_id"])
    year = site.year(request, plan)
    progress = await source.year_progress(site.db, plan, year, site.clock.today())
    return _page(
        "plan.html",
        plans=site.plans,
        plan=plan,
        year=year,
        years=_years(plan, year, plan_path(plan.id)),
        views=source.indicator_views(progress),
        summaries=source.summaries(progress, plan),
        measure_url=lambda code: measure_path(plan.id, code, year),
    )


async def measure_page(request: web.Request) -> web.Response:
    site = _site(request)
    plan = site.plan(request.match_info["plan_id"])
    measure = plan.measure(request.match_info["code"])
    if measure is None:
        raise _not_found()
    year = site.year(request, plan)
    progress = await source.year_progress(site.db, plan, year, site.clock.today())
    async with site.db.read() as repos:
        activities = await repos.public.activities(plan.id, year, measure.code)
    return _page(
        "measure.html",
        plans=site.plans,
        plan=plan,
        measure=measure,
        year=year,
        years=_years(plan, year, measure_path(plan.id, measure.code)),
        views=source.indicator_views(progress),
        activities=activities,
        plan_url=plan_path(plan.id, year),
    )


async def events_page(request: web.Request) -> web.Response:
    site = _site(request)
    now = site.clock.now()
    async with site.db.read() as repos:
        events = await repos.events.upcoming(now)
        names: dict[int, str] = {}
        for event in events:
            org_id = event.organisation_id
            if org_id is not None and org_id not in names:
                record = await repos.organisations.get(org_id)
                if record is not None:
                    names[org_id] = record.name
    rows = [
        {
            "event": e,
            "starts": e.starts_at.astimezone(site.clock.timezone),
            "organisation": names.get(e.organisation_id) if e.organisation_id else None,
            "ics": event_ics_path(e.id),
        }
        for e in events
    ]
    return _page("events.html", plans=site.plans, rows=rows)


async def event_ics(request: web.Request) -> web.Response:
    site = _site(request)
    raw = request.match_info["event_id"]
    if not raw.isdigit():
        raise _not_found()
    async with site.db.read() as repos:
        event = await repos.events.get(int(raw))
    if event is None or event.status != "approved":
        raise _not_found()
    text = calendar(
        CalendarEvent(
            uid=f"event-{event.id}@{request.host}",
            title=event.title,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            location=event.place,
        ),
        site.clock.now().astimezone(UTC),
    )
    return web.Response(
        body=text.encode("utf-8"),
        content_type="text/calendar",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="event-{event.id}.ics"'},
    )


async def newsletters_page(request: web.Request) -> web.Response:
    site = _site(request)
    async with site.db.read() as repos:
        issues = await repos.newsletters.sent_issues()
    return _page(
        "newsletters.html",
        plans=site.plans,
        issues=[(i, _month_start(i.month)) for i in issues],
    )


async def newsletter_page(request: web.Request) -> web.Response:
    site = _site(request)
    month = request.match_info["month"]
    if not _MONTH.match(month):
        raise _not_found()
    async with site.db.read() as repos:
        issue = await repos.newsletters.by_month(month)
    if issue is None or issue.status != "sent":
        raise _not_found()
    return _page("newsletter.html", plans=site.plans, issue=issue, month=_month_start(month))


def _month_start(month: str) -> date:
    year, number = month.split("-")
    return date(int(year), int(number), 1)


async def stylesheet(_: web.Request) -> web.Response:
    css = resources.files("web").joinpath("static/style.css").read_text(encoding="utf-8")
    return web.Response(
        text=css,
        content_type=_CSS,
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


def add_site_routes(app: web.Application, site: Site) -> None:
    """Serve the site from `app`, beside whatever else it serves (the webhook, in webhook mode)."""
    app[SITE] = site
    app.router.add_get("/", index)
    app.router.add_get("/plan/{plan_id}", plan_page)
    app.router.add_get("/plan/{plan_id}/measure/{code}", measure_page)
    app.router.add_get("/events", events_page)
    app.router.add_get("/events/{event_id}.ics", event_ics)
    app.router.add_get("/newsletters", newsletters_page)
    app.router.add_get("/newsletters/{month}", newsletter_page)
    app.router.add_get("/static/style.css", stylesheet)


def build_site_app(site: Site) -> web.Application:
    app = web.Application()
    add_site_routes(app, site)
    return app
