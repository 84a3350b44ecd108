"""The plan's vocabulary as plain, immutable data: directions, tasks, measures, indicators."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

IndicatorKind = Literal["count", "milestone"]
Period = Literal["year", "month", "plan"]
ParticipantUnit = Literal["organisations", "people"]
PARTICIPANT_UNITS: tuple[str, ...] = ("organisations", "people")
PERIODS: tuple[str, ...] = ("year", "month", "plan")
KINDS: tuple[str, ...] = ("count", "milestone")


@dataclass(frozen=True, slots=True)
class GlossaryEntry:
    """A responsible body or a funding source, named once and referred to by id."""

    id: str
    short: str
    full: str


@dataclass(frozen=True, slots=True)
class MinParticipants:
    """Per-event thresholds: an activity counts only when it meets both.

    Each threshold is in the plan's own unit: 2.1.2 counts CSO representatives, 2.4.4 counts
    the organisations themselves. The council's side is always people.
    """

    cso: int = 0
    council: int = 0
    cso_unit: ParticipantUnit = "people"
    council_unit: ParticipantUnit = "people"


@dataclass(frozen=True, slots=True)
class Indicator:
    """One machine-readable promise from a measure's expected results."""

    id: str
    measure_code: str
    kind: IndicatorKind
    description: str
    target: int = 1
    period: Period = "plan"
    unit: str = ""
    min_participants: MinParticipants | None = None
    # "в т.ч." (including): what counts for this indicator counts for that one too.
    part_of: str | None = None

    @property
    def counts_people(self) -> bool:
        """Whether a report adds people (2.2.1's representatives) rather than one event."""
        return self.kind == "count" and self.unit.startswith(("представник", "учасник", "особ"))


def cso_participants_unit(indicator: Indicator) -> ParticipantUnit | None:
    """What a reporter counts on the CSO side of an event: organisations or people.

    None when the indicator has no per-event threshold (nothing is asked).
    """
    minimum = indicator.min_participants
    return minimum.cso_unit if minimum is not None else None


@dataclass(frozen=True, slots=True)
class Measure:
    """A measure (захід) of the plan, with its text as printed in Annex 4."""

    code: str
    printed_code: str
    direction_code: str
    task_code: str
    title: str
    responsible: tuple[GlossaryEntry, ...]
    term: str
    funding: tuple[GlossaryEntry, ...]
    expected_results: str
    indicators: tuple[Indicator, ...] = ()
    # Not in the document: a few English words a reader of the English interface would search
    # for ("forum", "grants"), so the plan answers in both of the bot's languages.
    keywords_en: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Task:
    """A task (завдання) of a strategic direction."""

    code: str
    direction_code: str
    title: str
    measures: tuple[Measure, ...]


@dataclass(frozen=True, slots=True)
class Direction:
    """A strategic direction (стратегічний напрям)."""

    code: str
    title: str
    tasks: tuple[Task, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """A whole implementation plan, loaded and validated from its YAML file."""

    id: str
    title: str
    decision: str
    start: date
    end: date
    directions: tuple[Direction, ...]
    bodies: tuple[GlossaryEntry, ...]
    funding_sources: tuple[GlossaryEntry, ...]
    # The indicator the monthly newsletter's sent issues count towards (measure 2.1.3 here).
    newsletter_indicator: str | None = None
    _by_code: dict[str, Measure] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_code.update({m.code: m for m in self.measures})

    @property
    def tasks(self) -> tuple[Task, ...]:
        return tuple(t for d in self.directions for t in d.tasks)

    @property
    def measures(self) -> tuple[Measure, ...]:
        return tuple(m for t in self.tasks for m in t.measures)

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for m in self.measures for i in m.indicators)

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(range(self.start.year, self.end.year + 1))

    def measure(self, code: str) -> Measure | None:
        """The measure with this canonical code, or None."""
        return self._by_code.get(code)

    def by_printed_code(self, printed: str) -> tuple[Measure, ...]:
        """Every measure printed with this number in the document (1.4.3 is printed twice)."""
        return tuple(m for m in self.measures if m.printed_code == printed)

    def direction(self, code: str) -> Direction | None:
        return next((d for d in self.directions if d.code == code), None)

    def task(self, code: str) -> Task | None:
        return next((t for t in self.tasks if t.code == code), None)

    def indicator(self, indicator_id: str) -> Indicator | None:
        return next((i for i in self.indicators if i.id == indicator_id), None)

    def wholes_of(self, indicator: Indicator) -> tuple[Indicator, ...]:
        """The indicators this one is part of ("в т.ч."), nearest first; the loader forbids
        cycles, so the chain ends."""
        chain: list[Indicator] = []
        parent = indicator.part_of
        while parent is not None:
            whole = self.indicator(parent)
            if whole is None:
                break
            chain.append(whole)
            parent = whole.part_of
        return tuple(chain)

    def measures_of_body(self, body_id: str) -> tuple[Measure, ...]:
        return tuple(m for m in self.measures if any(b.id == body_id for b in m.responsible))

    def measures_funded_by(self, source_id: str) -> tuple[Measure, ...]:
        return tuple(m for m in self.measures if any(f.id == source_id for f in m.funding))
