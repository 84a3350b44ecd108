"""Progress of the plan's indicators: approved activities against targets, per calendar year.

Plain functions over plain data: the caller loads approved, de-duplicated activities (from the
database or anywhere else) as `CountedActivity` values and asks for a year as of a `today`.

What counts
-----------
- Only activities of the indicator itself, dated inside the plan period (plan.start..plan.end,
  both inclusive), count. Anything dated outside the period is ignored.
- With `min_participants`, an activity counts only when it meets every threshold of the event:
  cso_participants >= cso AND council_participants >= council. A missing count (None) does
  not meet a threshold above 0 (it does meet a threshold of 0).

Actual and met, for the year asked for
--------------------------------------
- count/year: actual = the sum of quantities dated in that calendar year; met when
  actual >= target.
- count/month: a month is met when its sum >= target; `months_met` = the months of the year
  inside the plan period that are met (all 12 for the plan's years); met for the year when all
  of those months are met. `actual` = the year's total sum.
- count/plan: actual = the running total from plan.start to Dec 31 of the year asked for (or
  plan.end, if earlier); met when actual >= target.
- milestone: met once any counted activity for it is dated on or before Dec 31 of the year
  asked for; actual 1 or 0, target 1 (the indicator's own target is ignored).
- `counted` = how many activities made up `actual` (for a milestone: all those up to the end of
  the year, not just the first).
- A year outside plan.years gets zero progress (actual 0, not met, months_met 0 for monthly
  indicators, status "not_started") instead of an error: the caller decides what to show.

Status, relative to `today`
---------------------------
`progress` below is months_met for count/month and actual otherwise. `expected` is rounded down.

- A met indicator is always "achieved", whatever the year.
- A future year (today before its Jan 1): "not_started" unless met. This holds even when a
  plan total already has some activities from earlier years: the year itself has not begun.
- Otherwise, when not met: "not_started" if actual == 0; else "on_track" if
  progress >= expected; else "behind". `expected` depends on whether the year is current:
  - current year (today inside it and the plan not yet ended):
    - year: target x days elapsed / days in the year, where days elapsed = the days before
      today ((today - Jan 1).days, so 2024-07-01 gives 182/366);
    - month: the months of the year inside the plan period that are complete before today
      (on 2024-07-01: January to June, 6);
    - plan: target x days of the plan elapsed before today / days in the plan period;
  - a year that is over (today after its Dec 31, or after plan.end): it is judged at its
    close. For year and month the whole target was due, so not met with actual > 0 is
    "behind". For plan the share due is the plan period elapsed at the year's close (at
    min(Dec 31, plan.end)): a plan total halfway in its plan's first year is "on_track", not
    "behind"; for the plan's last year that share is the whole target, so "behind" again.
  - A milestone has actual 0 whenever it is not met, so it is only ever "achieved" or
    "not_started".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from plan.model import Indicator, MinParticipants, Plan

__all__ = [
    "ACHIEVED",
    "BEHIND",
    "NOT_STARTED",
    "ON_TRACK",
    "STATUSES",
    "CountedActivity",
    "IndicatorProgress",
    "Summary",
    "default_report_year",
    "indicator_progress",
    "plan_progress",
    "summarize",
]

ACHIEVED = "achieved"
ON_TRACK = "on_track"
BEHIND = "behind"
NOT_STARTED = "not_started"
STATUSES: tuple[str, ...] = (ACHIEVED, ON_TRACK, BEHIND, NOT_STARTED)


@dataclass(frozen=True, slots=True)
class CountedActivity:
    """One approved, de-duplicated activity as the engine sees it."""

    indicator_id: str
    date: date
    quantity: int = 1
    cso_participants: int | None = None
    council_participants: int | None = None

    def __post_init__(self) -> None:
        # A negative quantity would let one report undo another's; reports only add.
        if self.quantity < 0:
            raise ValueError(f"quantity must not be negative, got {self.quantity}")


@dataclass(frozen=True, slots=True)
class IndicatorProgress:
    """Where one indicator stands for one calendar year."""

    indicator: Indicator
    year: int
    actual: int
    target: int
    met: bool
    status: str  # "achieved" | "on_track" | "behind" | "not_started"
    months_met: int | None  # period "month" only, else None
    counted: int  # how many activities counted


@dataclass(frozen=True, slots=True)
class Summary:
    """How many indicators of a part of the plan are met."""

    met: int
    total: int


def _passes(activity: CountedActivity, thresholds: MinParticipants | None) -> bool:
    if thresholds is None:
        return True
    cso = activity.cso_participants
    council = activity.council_participants
    if thresholds.cso > 0 and (cso is None or cso < thresholds.cso):
        return False
    return not (thresholds.council > 0 and (council is None or council < thresholds.council))


def _months_in_plan(plan: Plan, year: int) -> list[int]:
    """The months of `year` that share at least one day with the plan period."""
    return [
        m
        for m in range(1, 13)
        if date(year, m, 1) <= plan.end and _month_end(year, m) >= plan.start
    ]


def _month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)


def _status(
    plan: Plan,
    indicator: Indicator,
    year: int,
    today: date,
    *,
    actual: int,
    target: int,
    met: bool,
    months_met: int | None,
) -> str:
    if met:
        return ACHIEVED
    year_start = date(year, 1, 1)
    year_end = date(year, 12, 31)
    if today < year_start:
        return NOT_STARTED
    if actual == 0:
        return NOT_STARTED
    over = today > year_end or today > plan.end
    progress = actual
    if indicator.kind == "milestone":
        expected = 1  # unreachable in practice: a milestone with actual 1 is met
    elif indicator.period == "year":
        if over:
            expected = target
        else:
            days_in_year = (year_end - year_start).days + 1
            expected = target * (today - year_start).days // days_in_year
    elif indicator.period == "month":
        months = _months_in_plan(plan, year)
        progress = months_met or 0
        complete = [m for m in months if _month_end(year, m) < today]
        expected = len(months) if over else len(complete)
    else:  # "plan": the share of the plan period gone by, at today or at the year's close
        moment = min(year_end, plan.end) + timedelta(days=1) if over else today
        plan_days = (plan.end - plan.start).days + 1
        elapsed = min(max((moment - plan.start).days, 0), plan_days)
        expected = target * elapsed // plan_days
    return ON_TRACK if progress >= expected else BEHIND


def _progress(
    plan: Plan,
    indicator: Indicator,
    activities: Iterable[CountedActivity],
    year: int,
    today: date,
) -> IndicatorProgress:
    """Progress from activities already known to belong to `indicator`."""
    monthly = indicator.kind == "count" and indicator.period == "month"
    target = 1 if indicator.kind == "milestone" else indicator.target
    if year not in plan.years:
        return IndicatorProgress(
            indicator=indicator,
            year=year,
            actual=0,
            target=target,
            met=False,
            status=NOT_STARTED,
            months_met=0 if monthly else None,
            counted=0,
        )

    year_start = date(year, 1, 1)
    year_end = date(year, 12, 31)
    # Milestones and plan totals run from the plan's start; the others look at one year.
    cumulative = indicator.kind == "milestone" or indicator.period == "plan"
    low = plan.start if cumulative else max(plan.start, year_start)
    high = min(plan.end, year_end)
    thresholds = indicator.min_participants

    total = 0
    counted = 0
    by_month = [0] * 13  # index 1..12; only filled for monthly indicators
    for a in activities:
        d = a.date
        if d < low or d > high or not _passes(a, thresholds):
            continue
        total += a.quantity
        counted += 1
        if monthly:
            by_month[d.month] += a.quantity

    months_met: int | None = None
    if indicator.kind == "milestone":
        actual = 1 if counted else 0
        met = actual == 1
    elif monthly:
        months = _months_in_plan(plan, year)
        months_met = sum(1 for m in months if by_month[m] >= target)
        actual = total
        met = bool(months) and months_met == len(months)
    else:
        actual = total
        met = actual >= target

    status = _status(
        plan,
        indicator,
        year,
        today,
        actual=actual,
        target=target,
        met=met,
        months_met=months_met,
    )
    return IndicatorProgress(
        indicator=indicator,
        year=year,
        actual=actual,
        target=target,
        met=met,
        status=status,
        months_met=months_met,
        counted=counted,
    )


def indicator_progress(
    plan: Plan,
    indicator: Indicator,
    activities: Iterable[CountedActivity],
    year: int,
    today: date,
) -> IndicatorProgress:
    """Progress of one indicator in `year` as of `today`; other indicators' activities are ignored.

    A year outside plan.years gives zero progress rather than an error (see the module rules).
    """
    own = (a for a in activities if a.indicator_id == indicator.id)
    return _progress(plan, indicator, own, year, today)


def plan_progress(
    plan: Plan,
    activities: Iterable[CountedActivity],
    year: int,
    today: date,
) -> list[IndicatorProgress]:
    """Progress of every indicator of the plan, in plan order, in `year` as of `today`.

    One pass groups the activities by indicator, so the work is O(activities + indicators)
    however many indicators there are. Activities of indicators not in the plan are ignored.
    """
    indicators = plan.indicators  # a property that rebuilds the tuple: read it once
    groups: dict[str, list[CountedActivity]] = {i.id: [] for i in indicators}
    for a in activities:
        group = groups.get(a.indicator_id)
        if group is not None:
            group.append(a)
    return [_progress(plan, i, groups[i.id], year, today) for i in indicators]


def summarize(progress: Sequence[IndicatorProgress], plan: Plan) -> dict[str, Summary]:
    """Met and total indicators for the whole plan (key "") and each direction, in plan order.

    Every direction of the plan has a key, even one with no progress given. Progress of an
    indicator whose measure is not in the plan raises ValueError: it belongs to another plan.
    """
    met = {"": 0} | {d.code: 0 for d in plan.directions}
    total = dict(met)
    for p in progress:
        measure = plan.measure(p.indicator.measure_code)
        if measure is None:
            raise ValueError(
                f"indicator {p.indicator.id!r}: measure {p.indicator.measure_code!r} "
                "is not in the plan"
            )
        for key in ("", measure.direction_code):
            total[key] += 1
            met[key] += p.met
    return {key: Summary(met=met[key], total=total[key]) for key in total}


def default_report_year(plan: Plan, today: date) -> int:
    """Today's year if the plan covers it; else the plan's last year, or its first before it."""
    years = plan.years
    if today.year in years:
        return today.year
    if today < plan.start:
        return years[0]
    return years[-1]
