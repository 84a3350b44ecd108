"""Measure codes as people type them: normalising, and finding the nearest existing ones."""

from __future__ import annotations

import re
from collections.abc import Collection

from plan.model import Measure, Plan

_NUMBERS = re.compile(r"\d+")


def normalize_code(raw: str) -> str:
    """'1,1,1', ' 1.1.1. ' and '№1.1.1' all mean 1.1.1."""
    return raw.strip().lstrip("№#").replace(",", ".").replace(" ", "").rstrip(".")


def _number(code: str) -> int:
    return int(code.rsplit(".", 1)[-1])


def nearest_measures(plan: Plan, raw: str, n: int = 3) -> list[Measure]:
    """The measures nearest to a code that does not exist, walking the tree by number.

    '9.9.9' leads to the last direction, its last task and its last measures; '1.1.9' to the
    last measures of task 1.1. Text without numbers has no nearest code.
    """
    numbers = [int(x) for x in _NUMBERS.findall(raw)[:3]]
    if not numbers:
        return []
    wanted = numbers + [1] * (3 - len(numbers))
    direction = min(plan.directions, key=lambda d: abs(_number(d.code) - wanted[0]))
    task = min(direction.tasks, key=lambda t: abs(_number(t.code) - wanted[1]))
    by_distance = sorted(task.measures, key=lambda m: (abs(_number(m.code) - wanted[2]), m.code))
    return sorted(by_distance[:n], key=lambda m: [int(x) for x in m.code.split(".")])


def measures_by_code(plan: Plan, raw: str) -> tuple[Measure, ...]:
    """The measures a typed code means: the canonical one, else every measure printed with it.

    Canonical codes win; the document's 1.4.3 stands for two measures, so it gives both.
    """
    code = normalize_code(raw)
    measure = plan.measure(code)
    return (measure,) if measure is not None else plan.by_printed_code(code)


_YEAR = re.compile(r"^\d{4}$")


def split_plan_choice(args: str, plan_ids: Collection[str] = ()) -> tuple[str, str | None]:
    """'1.1.1 2023' → ('1.1.1', '2023'): a last (or first) word that is a year or one of
    `plan_ids` chooses the plan; the rest is the code. Without one, the current plan is meant."""
    words = args.split()
    if len(words) > 1:
        for index in (-1, 0):
            if _YEAR.match(words[index]) or words[index] in plan_ids:
                choice = words.pop(index)
                return " ".join(words), choice
    return args.strip(), None
