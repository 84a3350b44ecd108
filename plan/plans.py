"""Plans that follow one another: several plan files, which plan covers a date or a year."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path

from plan.loader import PlanError, load_plan
from plan.model import Plan
from plan.progress import default_report_year
from plan.validation import InputError, read_date


@dataclass(frozen=True, slots=True)
class Plans:
    """The loaded plans in date order; their ids and periods never overlap (see load_plans)."""

    all: tuple[Plan, ...]

    def __post_init__(self) -> None:
        if not self.all:
            raise ValueError("at least one plan is needed")

    @property
    def latest(self) -> Plan:
        return self.all[-1]

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted({y for p in self.all for y in p.years}))

    def by_id(self, plan_id: str) -> Plan | None:
        return next((p for p in self.all if p.id == plan_id), None)

    def covering(self, day: date) -> Plan | None:
        """The plan whose period includes `day`, if any."""
        return next((p for p in self.all if p.start <= day <= p.end), None)

    def current(self, today: date) -> Plan:
        """The plan covering today; otherwise the latest that has begun, else the first."""
        covering = self.covering(today)
        if covering is not None:
            return covering
        begun = [p for p in self.all if p.start <= today]
        return begun[-1] if begun else self.all[0]

    def for_year(self, year: int) -> Plan | None:
        """The plan a report of `year` is about: the last one that runs in that year."""
        running = [p for p in self.all if year in p.years]
        return running[-1] if running else None

    def report_year(self, today: date) -> int:
        """Today's year if a plan runs in it; else the last year of the latest plan that has
        begun (or the first plan's first year, before any has)."""
        if self.for_year(today.year) is not None:
            return today.year
        return default_report_year(self.current(today), today)

    def index(self, plan: Plan) -> int:
        """The plan's place in date order: short enough for a button's callback data."""
        return self.all.index(plan)

    def at(self, index: int | None, default: Plan) -> Plan | None:
        """The plan at `index` (None: `default`, the current one); None if there is none."""
        if index is None:
            return default
        return self.all[index] if 0 <= index < len(self.all) else None

    def periods(self, iso: bool = True) -> str:
        """The periods open for reports, for the CLI's messages: «2023-01-01..2024-12-31, …».
        A chat names them in words: formats.dates.periods(plans.spans(), locale)."""
        return ", ".join(f"{p.start.isoformat()}..{p.end.isoformat()}" for p in self.all)

    def spans(self) -> tuple[tuple[date, date], ...]:
        """Each plan's first and last day, in date order: the periods a message names."""
        return tuple((p.start, p.end) for p in self.all)

    def parse_date(self, raw: str, today: date) -> date:
        """A report's date: real, not in the future, inside the period of one of the plans
        (refused with `date_outside_plans`, naming every period, otherwise)."""
        value = read_date(raw)
        if value > today:
            raise InputError("date_future", today=today)
        if self.covering(value) is None:
            raise InputError("date_outside_plans", periods=self.spans())
        return value


def load_plans(paths: Iterable[str | Path]) -> Plans:
    """Load every plan file; refuse two plans with one id or with overlapping periods."""
    loaded: list[tuple[Path, Plan]] = [(Path(p), load_plan(p)) for p in paths]
    loaded.sort(key=lambda item: item[1].start)
    for (first_path, first), (path, plan) in pairwise(loaded):
        if plan.start <= first.end:
            raise PlanError(
                str(path),
                "plan.period",
                f"{plan.start}..{plan.end} overlaps {first.id} ({first.start}..{first.end}) "
                f"of {first_path.name}: plans must follow one another",
            )
    ids: dict[str, Path] = {}
    for path, plan in loaded:
        if plan.id in ids:
            raise PlanError(str(path), "plan.id", f"{plan.id!r} is also the id of {ids[plan.id]}")
        ids[plan.id] = path
    return Plans(tuple(plan for _, plan in loaded))
