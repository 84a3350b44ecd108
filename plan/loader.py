"""Loading a plan file and validating its schema, with errors that name file and field."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import yaml

from plan.model import (
    KINDS,
    PARTICIPANT_UNITS,
    PERIODS,
    Direction,
    GlossaryEntry,
    Indicator,
    Measure,
    MinParticipants,
    Plan,
    Task,
)

T = TypeVar("T")
_CODE = re.compile(r"^\d+(\.\d+)*$")
_INDICATOR_ID = re.compile(r"^[a-z0-9][a-z0-9.\-_]{0,31}$")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# libyaml's loader where PyYAML was built with it: the same safe constructors (so the same data),
# parsing annex4.yaml in ~5 ms of CPU against ~40 ms for the pure-Python one, at every start.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PlanError(ValueError):
    """A plan file that cannot be used; the message names the file, the field and the problem."""

    def __init__(self, file: str, path: str, problem: str) -> None:
        self.file, self.path, self.problem = file, path, problem
        super().__init__(f"{file}: {path}: {problem}" if path else f"{file}: {problem}")


class _Reader:
    """Walks the parsed YAML, turning every schema violation into a PlanError with its path."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, path: str, problem: str) -> PlanError:
        return PlanError(self.file, path, problem)

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a mapping, got {_type_name(value)}")
        return value

    def items(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list) or not value:
            raise self.fail(path, "expected a non-empty list")
        return value

    def field(self, data: Mapping[str, Any], key: str, path: str, kind: type[T]) -> T:
        if key not in data or data[key] is None:
            raise self.fail(f"{path}.{key}", "missing")
        value = data[key]
        # YAML reads `1.1` as a float and `1` as an int: codes must be quoted strings.
        if kind is str and not isinstance(value, str):
            raise self.fail(f"{path}.{key}", f"expected text, got {_type_name(value)} {value!r}")
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise self.fail(f"{path}.{key}", f"expected a whole number, got {value!r}")
        # A datetime is a date to Python, but comparing one with a plain date raises.
        if kind is date and (not isinstance(value, date) or isinstance(value, datetime)):
            raise self.fail(f"{path}.{key}", f"expected a date YYYY-MM-DD, got {value!r}")
        if kind is str and not value.strip():
            raise self.fail(f"{path}.{key}", "is empty")
        return cast(T, value)

    def optional(
        self, data: Mapping[str, Any], key: str, path: str, kind: type[T], default: T
    ) -> T:
        return default if data.get(key) is None else self.field(data, key, path, kind)

    def code(self, data: Mapping[str, Any], key: str, path: str) -> str:
        value = self.field(data, key, path, str)
        if not _CODE.match(value):
            raise self.fail(f"{path}.{key}", f"not a code like 1.2.3: {value!r}")
        return value


def _type_name(value: Any) -> str:
    return {dict: "mapping", list: "list", str: "text", int: "number", float: "number"}.get(
        type(value), type(value).__name__
    )


def load_plan(path: str | Path) -> Plan:
    """Read and validate a plan file; raise PlanError naming what is wrong."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise PlanError(file, "", f"cannot be read ({e.strerror or e})") from e
    except UnicodeDecodeError as e:
        raise PlanError(file, "", "is not UTF-8 text") from e
    try:
        raw = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        raise PlanError(file, where, f"is not valid YAML ({getattr(e, 'problem', e)})") from e
    return parse_plan(raw, file)


def parse_plan(raw: Any, file: str = "<plan>") -> Plan:
    """Validate already-parsed YAML data and build the Plan."""
    r = _Reader(file)
    root = r.mapping(raw, "(top level)")
    meta = r.mapping(root.get("plan"), "plan")
    period = r.mapping(meta.get("period"), "plan.period")
    start = r.field(period, "start", "plan.period", date)
    end = r.field(period, "end", "plan.period", date)
    if end < start:
        raise r.fail("plan.period", f"ends ({end}) before it starts ({start})")

    glossary = r.mapping(root.get("glossary"), "glossary")
    bodies = _glossary(r, glossary.get("bodies"), "glossary.bodies")
    sources = _glossary(r, glossary.get("funding"), "glossary.funding")

    indicators = _indicators(r, root.get("indicators"))
    _check_parts(r, indicators)
    directions = _directions(r, root.get("directions"), bodies, sources, indicators)

    known = {m.code for d in directions for t in d.tasks for m in t.measures}
    for code, (path, _) in indicators.items():
        if code not in known:
            raise r.fail(f"{path}.measure", f"no measure with code {code!r} in this plan")
    newsletter_indicator = r.optional(meta, "newsletter_indicator", "plan", str, "") or None
    if newsletter_indicator is not None and not any(
        i.id == newsletter_indicator for _, found in indicators.values() for i in found
    ):
        raise r.fail("plan.newsletter_indicator", f"no indicator with id {newsletter_indicator!r}")
    return Plan(
        id=r.field(meta, "id", "plan", str),
        title=r.field(meta, "title", "plan", str),
        decision=r.optional(meta, "decision", "plan", str, ""),
        start=start,
        end=end,
        directions=tuple(directions),
        bodies=tuple(bodies.values()),
        funding_sources=tuple(sources.values()),
        newsletter_indicator=newsletter_indicator,
    )


def _glossary(r: _Reader, raw: Any, path: str) -> dict[str, GlossaryEntry]:
    entries: dict[str, GlossaryEntry] = {}
    for i, item in enumerate(r.items(raw, path)):
        p = f"{path}[{i}]"
        data = r.mapping(item, p)
        entry = GlossaryEntry(
            id=r.field(data, "id", p, str),
            short=r.field(data, "short", p, str),
            full=r.field(data, "full", p, str),
        )
        if not _ID.match(entry.id):
            raise r.fail(f"{p}.id", f"not an id of a-z, 0-9 and _: {entry.id!r}")
        if entry.id in entries:
            raise r.fail(f"{p}.id", f"duplicate id {entry.id!r}")
        entries[entry.id] = entry
    return entries


# Indicators are kept by measure code with the path of their first entry, for error messages.
_IndicatorIndex = dict[str, tuple[str, list[Indicator]]]


def _indicators(r: _Reader, raw: Any) -> _IndicatorIndex:
    by_measure: _IndicatorIndex = {}
    seen: set[str] = set()
    for i, item in enumerate(r.items(raw, "indicators")):
        p = f"indicators[{i}]"
        data = r.mapping(item, p)
        ind_id = r.field(data, "id", p, str)
        if not _INDICATOR_ID.match(ind_id):
            raise r.fail(f"{p}.id", f"not an id of a-z, 0-9, '.', '-' (≤32): {ind_id!r}")
        if ind_id in seen:
            raise r.fail(f"{p}.id", f"duplicate indicator id {ind_id!r}")
        seen.add(ind_id)
        measure = r.code(data, "measure", p)
        kind = r.field(data, "kind", p, str)
        if kind not in KINDS:
            raise r.fail(f"{p}.kind", f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
        indicator = _indicator(r, data, p, ind_id, measure, kind)
        by_measure.setdefault(measure, (p, []))[1].append(indicator)
    return by_measure


def _indicator(
    r: _Reader, data: Mapping[str, Any], p: str, ind_id: str, measure: str, kind: str
) -> Indicator:
    description = r.field(data, "description", p, str)
    part_of = data.get("part_of")
    if part_of is not None and not isinstance(part_of, str):
        raise r.fail(f"{p}.part_of", f"expected an indicator id, got {_type_name(part_of)}")
    if kind == "milestone":
        return Indicator(
            id=ind_id,
            measure_code=measure,
            kind="milestone",
            description=description,
            part_of=part_of,
        )
    target = r.field(data, "target", p, int)
    if target < 1:
        raise r.fail(f"{p}.target", f"must be at least 1, got {target}")
    period = r.field(data, "period", p, str)
    if period not in PERIODS:
        raise r.fail(
            f"{p}.period", f"unknown period {period!r}; expected one of {', '.join(PERIODS)}"
        )
    minimum = None
    if data.get("min_participants") is not None:
        mp = r.mapping(data["min_participants"], f"{p}.min_participants")
        unknown = set(mp) - {"cso", "council"}
        if unknown:
            raise r.fail(f"{p}.min_participants", f"unknown keys {sorted(unknown)}")
        cso = r.optional(mp, "cso", f"{p}.min_participants", int, 0)
        council = r.optional(mp, "council", f"{p}.min_participants", int, 0)
        if cso < 0 or council < 0:
            raise r.fail(f"{p}.min_participants", "thresholds cannot be negative")
        units = _units(r, data, p)
        minimum = MinParticipants(
            cso=cso, council=council, cso_unit=units["cso"], council_unit=units["council"]
        )
    elif data.get("min_participants_unit") is not None:
        raise r.fail(f"{p}.min_participants_unit", "given without min_participants")
    return Indicator(
        id=ind_id,
        measure_code=measure,
        kind="count",
        description=description,
        target=target,
        period=cast(Any, period),
        unit=r.field(data, "unit", p, str),
        min_participants=minimum,
        part_of=part_of,
    )


def _units(r: _Reader, data: Mapping[str, Any], p: str) -> dict[str, Any]:
    """The unit of each threshold (people unless the plan says organisations)."""
    units: dict[str, Any] = {"cso": "people", "council": "people"}
    if data.get("min_participants_unit") is None:
        return units
    path = f"{p}.min_participants_unit"
    raw = r.mapping(data["min_participants_unit"], path)
    unknown = set(raw) - set(units)
    if unknown:
        raise r.fail(path, f"unknown keys {sorted(unknown)}")
    for side, unit in raw.items():
        if unit not in PARTICIPANT_UNITS:
            raise r.fail(
                f"{path}.{side}",
                f"unknown unit {unit!r}; expected one of {', '.join(PARTICIPANT_UNITS)}",
            )
        units[side] = unit
    return units


def _check_parts(r: _Reader, by_measure: _IndicatorIndex) -> None:
    """`part_of` names another count indicator of the same measure, and never loops."""
    for path, own in by_measure.values():
        ids = {i.id: i for i in own}
        for indicator in own:
            if indicator.part_of is None:
                continue
            where = f"{path} ({indicator.id}).part_of"
            whole = ids.get(indicator.part_of)
            if whole is None:
                raise r.fail(
                    where,
                    f"{indicator.part_of!r} is not an indicator of measure "
                    f"{indicator.measure_code!r}",
                )
            if indicator.kind != "count" or whole.kind != "count":
                raise r.fail(where, "only a count can be part of another count")
            seen = {indicator.id}
            while whole is not None:
                if whole.id in seen:
                    raise r.fail(where, f"{indicator.id!r} is part of itself through a cycle")
                seen.add(whole.id)
                whole = ids.get(whole.part_of) if whole.part_of is not None else None


def _words(r: _Reader, data: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
    """An optional list of short texts (keywords)."""
    if data.get(key) is None:
        return ()
    words = r.items(data.get(key), f"{path}.{key}")
    for j, word in enumerate(words):
        if not isinstance(word, str) or not word.strip():
            raise r.fail(f"{path}.{key}[{j}]", f"expected a word, got {word!r}")
    return tuple(w.strip() for w in words)


def _refs(
    r: _Reader, data: Mapping[str, Any], key: str, path: str, glossary: dict[str, GlossaryEntry]
) -> tuple[GlossaryEntry, ...]:
    ids = r.items(data.get(key), f"{path}.{key}")
    out = []
    for j, ref in enumerate(ids):
        if not isinstance(ref, str) or ref not in glossary:
            raise r.fail(f"{path}.{key}[{j}]", f"unknown glossary id {ref!r}")
        out.append(glossary[ref])
    return tuple(out)


def _directions(
    r: _Reader,
    raw: Any,
    bodies: dict[str, GlossaryEntry],
    sources: dict[str, GlossaryEntry],
    indicators: _IndicatorIndex,
) -> list[Direction]:
    codes: dict[str, str] = {}

    def unique(code: str, path: str) -> str:
        if code in codes:
            raise r.fail(path, f"duplicate code {code!r} (also at {codes[code]})")
        codes[code] = path
        return code

    def each(raw_list: Any, path: str, build: Callable[[Mapping[str, Any], str], T]) -> list[T]:
        return [
            build(r.mapping(item, f"{path}[{i}]"), f"{path}[{i}]")
            for i, item in enumerate(r.items(raw_list, path))
        ]

    def measure(data: Mapping[str, Any], p: str, direction: str, task: str) -> Measure:
        code = unique(r.code(data, "code", p), f"{p}.code")
        if not code.startswith(task + "."):
            raise r.fail(f"{p}.code", f"measure {code!r} is not numbered under task {task!r}")
        own = indicators.get(code, ("", []))[1]
        if not own:
            raise r.fail(p, f"measure {code!r} has no indicators")
        return Measure(
            code=code,
            printed_code=r.optional(data, "printed_code", p, str, code),
            direction_code=direction,
            task_code=task,
            title=r.field(data, "title", p, str).strip(),
            responsible=_refs(r, data, "responsible", p, bodies),
            term=r.field(data, "term", p, str),
            funding=_refs(r, data, "funding", p, sources),
            expected_results=r.field(data, "expected_results", p, str).strip(),
            indicators=tuple(own),
            keywords_en=_words(r, data, "keywords_en", p),
        )

    def task(data: Mapping[str, Any], p: str, direction: str) -> Task:
        code = unique(r.code(data, "code", p), f"{p}.code")
        if not code.startswith(direction + "."):
            raise r.fail(
                f"{p}.code", f"task {code!r} is not numbered under direction {direction!r}"
            )
        return Task(
            code=code,
            direction_code=direction,
            title=r.field(data, "title", p, str),
            measures=tuple(
                each(
                    data.get("measures"),
                    f"{p}.measures",
                    lambda d, q: measure(d, q, direction, code),
                )
            ),
        )

    def direction(data: Mapping[str, Any], p: str) -> Direction:
        code = unique(r.code(data, "code", p), f"{p}.code")
        return Direction(
            code=code,
            title=r.field(data, "title", p, str),
            tasks=tuple(each(data.get("tasks"), f"{p}.tasks", lambda d, q: task(d, q, code))),
        )

    return each(raw, "directions", direction)
