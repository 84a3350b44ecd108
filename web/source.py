"""The one place the site takes its numbers from: the plan layer's progress, as /report shows it.

Everything the site needs of the progress goes through these few functions, so the site's
numbers are the same function's numbers as /report's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from db import Database
from handlers import progress as handlers_progress
from plan.model import Plan
from plan.progress import IndicatorProgress, Summary, default_report_year, summarize
from plan.report import STATUS_UK

_MONTHS = 12

__all__ = [
    "IndicatorView",
    "default_year",
    "indicator_views",
    "status_label",
    "summaries",
    "year_progress",
]


async def year_progress(
    db: Database, plan: Plan, year: int, today: date
) -> list[IndicatorProgress]:
    """Every indicator's progress in `year` as of `today`: the very function `/report` uses."""
    progress, _waiting = await handlers_progress.year_progress(db, plan, year, today)
    return progress


def summaries(progress: Sequence[IndicatorProgress], plan: Plan) -> dict[str, Summary]:
    """Met of total for the plan (key "") and each direction."""
    return summarize(progress, plan)


def default_year(plan: Plan, today: date) -> int:
    return default_report_year(plan, today)


def status_label(status: str) -> str:
    return STATUS_UK.get(status, status)


@dataclass(frozen=True, slots=True)
class IndicatorView:
    """One indicator's numbers as the page shows them."""

    id: str
    measure_code: str
    description: str
    unit: str
    kind: str
    period: str
    target: int
    actual: int
    months_met: int | None
    months_total: int | None
    met: bool
    status: str
    status_label: str
    share: float  # 0..1, how much of the bar is filled


def indicator_views(progress: Sequence[IndicatorProgress]) -> dict[str, IndicatorView]:
    """The progress by indicator id, with the bar's share worked out."""
    views = {}
    for p in progress:
        if p.met:
            share = 1.0
        elif p.months_met is not None:
            share = min(p.months_met / (p.months_total or _MONTHS), 1.0)  # as the chart does
        else:
            share = min(p.actual / p.target, 1.0) if p.target > 0 else 0.0
        views[p.indicator.id] = IndicatorView(
            id=p.indicator.id,
            measure_code=p.indicator.measure_code,
            description=p.indicator.description,
            unit=p.indicator.unit,
            kind=p.indicator.kind,
            period=p.indicator.period,
            target=p.target,
            actual=p.actual,
            months_met=p.months_met,
            months_total=p.months_total,
            met=p.met,
            status=p.status,
            status_label=status_label(p.status),
            share=share,
        )
    return views
