"""Progress of the plan's indicators: approved activities against targets, per calendar year.

Every counting rule of the plan lives here, as plain functions over plain data: the caller
loads approved, de-duplicated activities (from the database or anywhere else) as
`CountedActivity` values and asks for a year as of a `today` (the city's today, from its Clock).

What counts
-----------
- Only activities of a verified organisation count (`CountedActivity.verified`): a
  registration still pending never contributes; `awaiting_verification` says how many wait.
- An activity counts for its own indicator and, through `part_of` ("в т.ч."), for every
  indicator that one is part of: the ТОТ reported against 1.1.1-tot is one of 1.1.1's six.
  What does not count for the part (a threshold missed) does not count for the whole either.
- Only activities dated inside the plan period (plan.start..plan.end, both inclusive) count.
- With `min_participants`, an activity counts only when it meets every threshold of the event,
  each in the plan's own unit (2.4.4 counts organisations): cso_participants >= cso AND
  council_participants >= council. A missing count (None) does not meet a threshold above 0.
- `contributing` lists the activities that make up an indicator's actual, by these same rules.

Actual and met, for the year asked for
--------------------------------------
- count/year: actual = the sum of quantities dated in that calendar year; met when
  actual >= target.
- count/month: a month is met when its sum >= target; `months_total` = the months of the year
  inside the plan period (12 for the plan's years), `months_met` = how many of those are met;
  met for the year when all of them are. `actual` = the year's total sum.
- count/plan: actual = the running total from plan.start to Dec 31 of the year asked for (or
  plan.end, if earlier); met when actual >= target.
- milestone: met once any counted activity for it is dated on or before Dec 31 of the year
  asked for; actual 1 or 0, target 1 (the indicator's own target is ignored).
- `counted` = how many activities made up `actual` (for a milestone: all those up to the end of
  the year, not just the first).
- A year outside plan.years gets zero progress (actual 0, not met, status "not_started")
  instead of an error: the caller decides what to show.

Status, relative to `today`: one vocabulary for every view
---------------------------------------------------------
`progress` below is months_met for count/month and actual otherwise. `expected` is rounded down.

- A met indicator is "achieved" (виконано), whatever the year.
- A future year (today before its Jan 1): "not_started" unless met.
- A period that has ended is judged as met or "not_met" (не виконано), never on track or
  behind: a year (or month promise) once its year, or the plan, is over; a plan total or a
  milestone in the plan's last year once the plan is over.
- Otherwise, while the period runs: "not_started" if actual == 0; else "on_track" if
  progress >= expected, "behind" if not, measured against the time elapsed:
  - year: target x days elapsed / days in the year, where days elapsed = the days before
    today ((today - Jan 1).days, so 2024-07-01 gives 182/366);
  - month: the months of the year inside the plan period complete before today;
  - plan: target x days of the plan elapsed before today / days in the plan period. A plan
    total seen in an earlier, closed year of the plan is judged at that year's close (its
    period still ran then): halfway in the plan's first year is "on_track".
  - A milestone has actual 0 whenever it is not met, so while it runs it is "not_started".
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from plan.model import Indicator, MinParticipants, Plan

__all__ = [
    "ACHIEVED",
    "BEHIND",
    "NOT_MET",
    "NOT_STARTED",
    "ON_TRACK",
    "STATUSES",
    "CountedActivity",
    "IndicatorProgress",
    "Summary",
    "awaiting_verification",
    "contributing",
    "default_report_year",
    "indicator_progress",
    "met_pairs",
    "newly_met",
    "plan_progress",
    "summarize",
    "summarize_by",
]

ACHIEVED = "achieved"
ON_TRACK = "on_track"
BEHIND = "behind"
NOT_STARTED = "not_started"
NOT_MET = "not_met"
# In the order every view lists them: the two verdicts of an ended period, then the running ones.
STATUSES: tuple[str, ...] = (ACHIEVED, NOT_MET, ON_TRACK, BEHIND, NOT_STARTED)


@dataclass(frozen=True, slots=True)
class CountedActivity:
    """One approved, de-duplicated activity as the engine sees it."""

    indicator_id: str
    date: date
    quantity: int = 1
    cso_participants: int | None = None
    council_participants: int | None = None
    id: int = 0  # the activity's own id, so a view can find what `contributing` chose
    verified: bool = True  # its organisation is verified; a pending one never counts

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
    status: str  # one of STATUSES
    months_met: int | None  # period "month" only, else None
    counted: int  # how many activities counted
    months_total: int | None = None  # period "month" only: the year's months inside the plan

    @property
    def monthly(self) -> bool:
        return self.months_total is not None


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
    close = min(year_end, plan.end)
    over = today > close
    # A plan total or a milestone runs to the plan's end; seen in an earlier year it was still
    # running at that year's close, so it is judged on schedule there, not as a verdict.
    yearly = indicator.kind == "count" and indicator.period in ("year", "month")
    if over and (yearly or close == plan.end):
        return NOT_MET
    if actual == 0:
        return NOT_STARTED
    progress = actual
    if indicator.kind == "milestone":
        expected = 1  # unreachable in practice: a milestone with actual 1 is met
    elif indicator.period == "year":
        days_in_year = (year_end - year_start).days + 1
        expected = target * (today - year_start).days // days_in_year
    elif indicator.period == "month":
        progress = months_met or 0
        expected = sum(1 for m in _months_in_plan(plan, year) if _month_end(year, m) < today)
    else:  # "plan": the share of the plan period gone by, at today or at the year's close
        moment = close + timedelta(days=1) if over else today
        plan_days = (plan.end - plan.start).days + 1
        elapsed = min(max((moment - plan.start).days, 0), plan_days)
        expected = target * elapsed // plan_days
    return ON_TRACK if progress >= expected else BEHIND


def _window(plan: Plan, indicator: Indicator, year: int) -> tuple[date, date]:
    """The dates whose activities make up the indicator's actual in `year`."""
    # Milestones and plan totals run from the plan's start; the others look at one year.
    cumulative = indicator.kind == "milestone" or indicator.period == "plan"
    low = plan.start if cumulative else max(plan.start, date(year, 1, 1))
    return low, min(plan.end, date(year, 12, 31))


def _in_year(
    plan: Plan, indicator: Indicator, own: Iterable[CountedActivity], year: int
) -> list[CountedActivity]:
    """Of the activities already known to count for `indicator`, those that make up `year`."""
    if year not in plan.years:
        return []
    low, high = _window(plan, indicator, year)
    thresholds = indicator.min_participants
    return [a for a in own if low <= a.date <= high and _passes(a, thresholds)]


def _progress(
    plan: Plan,
    indicator: Indicator,
    own: Iterable[CountedActivity],
    year: int,
    today: date,
) -> IndicatorProgress:
    """Progress from the activities already known to count for `indicator` (see `_grouped`)."""
    monthly = indicator.kind == "count" and indicator.period == "month"
    target = 1 if indicator.kind == "milestone" else indicator.target
    months = _months_in_plan(plan, year) if monthly and year in plan.years else []
    counted = _in_year(plan, indicator, own, year)
    total = sum(a.quantity for a in counted)

    months_met: int | None = None
    if indicator.kind == "milestone":
        actual = 1 if counted else 0
        met = actual == 1
    elif monthly:
        by_month = [0] * 13  # index 1..12
        for a in counted:
            by_month[a.date.month] += a.quantity
        months_met = sum(1 for m in months if by_month[m] >= target)
        actual = total
        met = bool(months) and months_met == len(months)
    else:
        actual = total
        met = actual >= target

    if year in plan.years:
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
    else:
        status = NOT_STARTED
    return IndicatorProgress(
        indicator=indicator,
        year=year,
        actual=actual,
        target=target,
        met=met,
        status=status,
        months_met=months_met,
        counted=len(counted),
        months_total=len(months) if monthly else None,
    )


def _grouped(
    plan: Plan, activities: Iterable[CountedActivity]
) -> dict[str, list[CountedActivity]]:
    """What counts for each indicator of the plan: its own activities of verified organisations,
    and those of its parts ("в т.ч."). One pass: O(activities x depth of `part_of`)."""
    indicators = plan.indicators  # a property that rebuilds the tuple: read it once
    by_id = {i.id: i for i in indicators}
    groups: dict[str, list[CountedActivity]] = {i.id: [] for i in indicators}
    chains = {i.id: (i, *plan.wholes_of(i)) for i in indicators if i.part_of is not None}
    for a in activities:
        if not a.verified:
            continue
        own = by_id.get(a.indicator_id)
        if own is None:
            continue  # an indicator of another plan
        for indicator in chains.get(own.id, (own,)):
            # What the part does not count (a threshold missed), the whole does not either.
            if not _passes(a, indicator.min_participants):
                break
            groups[indicator.id].append(a)
    return groups


def indicator_progress(
    plan: Plan,
    indicator: Indicator,
    activities: Sequence[CountedActivity],
    year: int,
    today: date,
) -> IndicatorProgress:
    """Progress of one indicator in `year` as of `today`, its parts included.

    A year outside plan.years gives zero progress rather than an error (see the module rules).
    """
    own = _grouped(plan, activities).get(indicator.id)
    if own is None:  # not an indicator of this plan: only its own activities
        own = [a for a in activities if a.indicator_id == indicator.id and a.verified]
    return _progress(plan, indicator, own, year, today)


def plan_progress(
    plan: Plan,
    activities: Iterable[CountedActivity],
    year: int,
    today: date,
) -> list[IndicatorProgress]:
    """Progress of every indicator of the plan, in plan order, in `year` as of `today`.

    The one function that gives a year's progress: every view (bot, chart, files, CLI,
    newsletter, review) calls it over the activities the database loaded. Activities of
    indicators not in the plan are ignored.
    """
    groups = _grouped(plan, activities)
    return [_progress(plan, i, groups[i.id], year, today) for i in plan.indicators]


def contributing(
    plan: Plan, indicator: Indicator, activities: Iterable[CountedActivity], year: int
) -> list[CountedActivity]:
    """The activities that make up `indicator`'s actual in `year`, its parts' included, by date.

    Exactly those `plan_progress` counted: the drill-down lists them, it never re-decides.
    """
    counted = _in_year(plan, indicator, _grouped(plan, activities)[indicator.id], year)
    return sorted(counted, key=lambda a: (a.date, a.id))


def awaiting_verification(plan: Plan, activities: Iterable[CountedActivity]) -> int:
    """Approved activities inside the plan period that wait for their organisation's
    verification: they will count once it is verified."""
    return sum(1 for a in activities if not a.verified and plan.start <= a.date <= plan.end)


def newly_met(
    progress: Iterable[IndicatorProgress], already: Collection[tuple[str, int]]
) -> list[IndicatorProgress]:
    """The met indicators not in `already` (pairs of indicator id and year), in the given order.

    One rule for every announcement: the review's congratulation passes what was met before
    the decision, the newsletter what earlier issues listed.
    """
    return [p for p in progress if p.met and (p.indicator.id, p.year) not in already]


def met_pairs(progress: Iterable[IndicatorProgress]) -> set[tuple[str, int]]:
    """(indicator id, year) of every met indicator: what `newly_met` compares against."""
    return {(p.indicator.id, p.year) for p in progress if p.met}


def summarize_by(
    progress: Sequence[IndicatorProgress], plan: Plan, level: str
) -> dict[str, Summary]:
    """Met and total indicators for the whole plan (key "") and each part of the plan at
    `level` ("direction", "task" or "measure"), keyed by its code, in plan order.

    Every part of the plan has a key, even one with no progress given. Progress of an
    indicator whose measure is not in the plan raises ValueError: it belongs to another plan.
    """
    parts: dict[str, tuple[str, ...]] = {
        "direction": tuple(d.code for d in plan.directions),
        "task": tuple(t.code for t in plan.tasks),
        "measure": tuple(m.code for m in plan.measures),
    }
    met = {"": 0} | dict.fromkeys(parts[level], 0)
    total = dict(met)
    for p in progress:
        measure = plan.measure(p.indicator.measure_code)
        if measure is None:
            raise ValueError(
                f"indicator {p.indicator.id!r}: measure {p.indicator.measure_code!r} "
                "is not in the plan"
            )
        code = {
            "direction": measure.direction_code,
            "task": measure.task_code,
            "measure": measure.code,
        }[level]
        for key in ("", code):
            total[key] += 1
            met[key] += p.met
    return {key: Summary(met=met[key], total=total[key]) for key in total}


def summarize(progress: Sequence[IndicatorProgress], plan: Plan) -> dict[str, Summary]:
    """Met and total indicators for the whole plan (key "") and each direction."""
    return summarize_by(progress, plan, "direction")


def default_report_year(plan: Plan, today: date) -> int:
    """Today's year if the plan covers it; else the plan's last year, or its first before it."""
    years = plan.years
    if today.year in years:
        return today.year
    if today < plan.start:
        return years[0]
    return years[-1]
