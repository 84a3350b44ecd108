"""Reports on the plan: progress laid out as JSON, text and Annex 4's table.

Pure functions over the plan and the progress engine's output; no database here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from plan.model import Measure, Plan
from plan.progress import (
    ACHIEVED,
    BEHIND,
    NOT_MET,
    NOT_STARTED,
    ON_TRACK,
    IndicatorProgress,
    summarize,
)

__all__ = [
    "CSV_HEADER",
    "STATUS_SYMBOL",
    "STATUS_UK",
    "AnnexRow",
    "annex_rows",
    "csv_rows",
    "progress_share",
    "progress_value",
    "report_dict",
    "report_text",
    "report_title",
]

# One vocabulary for every view (bot, chart, files, CLI): a verdict for an ended period,
# a pace only while it runs. The bot's translations of these words are the catalogue's.
STATUS_UK = {
    ACHIEVED: "виконано",
    NOT_MET: "не виконано",
    ON_TRACK: "за графіком",
    BEHIND: "із відставанням",
    NOT_STARTED: "не розпочато",
}
STATUS_SYMBOL = {
    ACHIEVED: "✅",
    NOT_MET: "❌",
    ON_TRACK: "🔵",
    BEHIND: "🟠",
    NOT_STARTED: "⚪",
}


def progress_value(p: IndicatorProgress) -> str:
    """How far an indicator is, in Ukrainian: "3/6", or "9 з 12 місяців" for a monthly one."""
    if p.months_total is not None:
        return f"{p.months_met or 0} з {p.months_total} місяців"
    return f"{p.actual}/{p.target}"


def report_dict(
    plan: Plan, year: int, progress: Sequence[IndicatorProgress], waiting: int = 0
) -> dict[str, Any]:
    """The year's progress in the report's JSON shape; `waiting` = approved activities whose
    organisation is not yet verified (they do not count)."""
    indicators = []
    for p in progress:
        entry: dict[str, Any] = {
            "measure": p.indicator.measure_code,
            "indicator": p.indicator.id,
            "part_of": p.indicator.part_of,
            "kind": p.indicator.kind,
            "period": p.indicator.period,
            "target": p.target,
            "actual": p.actual,
            "met": p.met,
        }
        if p.months_total is not None:
            entry["months_met"] = p.months_met or 0
            entry["months_total"] = p.months_total
        entry["status"] = p.status
        indicators.append(entry)
    summaries = summarize(progress, plan)
    whole = summaries[""]
    return {
        "year": year,
        "plan_id": plan.id,
        "indicators": indicators,
        "awaiting_verification": waiting,
        "summary": {
            "met": whole.met,
            "total": whole.total,
            "directions": {
                code: {"met": s.met, "total": s.total}
                for code, s in summaries.items()
                if code != ""
            },
        },
    }


def report_text(
    plan: Plan, year: int, progress: Sequence[IndicatorProgress], waiting: int = 0
) -> str:
    """The year's progress in Ukrainian, one line per indicator, with the bot's symbols."""
    lines = [f"Звіт про виконання плану {plan.id} за {year} рік"]
    for p in progress:
        lines.append(
            f"{STATUS_SYMBOL[p.status]} {p.indicator.measure_code} {p.indicator.description}: "
            f"{progress_value(p)} — {STATUS_UK[p.status]}"
        )
    whole = summarize(progress, plan)[""]
    lines.append(f"Виконано показників: {whole.met} з {whole.total}")
    if waiting:
        lines.append(f"Чекають на верифікацію організації: {waiting} (не враховано)")
    lines.append(" ".join(f"{STATUS_SYMBOL[s]} {name}" for s, name in STATUS_UK.items()))
    return "\n".join(lines) + "\n"


# Annex 4's columns as the council reads them, then the year's figures. A monthly indicator's
# target and actual are its months; its "Факт" says so in words ("9 з 12 місяців").
CSV_HEADER: tuple[str, ...] = (
    "№",
    "Захід",
    "Відповідальні",
    "Терміни",
    "Джерела фінансування",
    "Показник",
    "Ціль",
    "Факт",
    "Статус",
    "%",
)

RowKind = Literal["direction", "task", "indicator"]


@dataclass(frozen=True, slots=True)
class AnnexRow:
    """A row of the report table: a direction's or a task's heading as the document prints
    it (text in the first cell, the rest empty), or one indicator of a measure.

    Numbers stay numbers (a spreadsheet sums and filters them); CSV writes them as text.
    """

    kind: RowKind
    cells: tuple[str | int, ...]


def progress_share(p: IndicatorProgress) -> float:
    """How much of the target is done, 0..1: a met indicator is whole, a monthly one is judged
    by its months met, not by its yearly sum."""
    if p.met:
        return 1.0
    if p.months_total:
        return min((p.months_met or 0) / p.months_total, 1.0)
    return min(p.actual / p.target, 1.0) if p.target > 0 else 0.0


def report_title(plan: Plan, year: int) -> str:
    return f"Звіт про виконання плану за {year} рік"


def annex_rows(plan: Plan, progress: Sequence[IndicatorProgress]) -> list[AnnexRow]:
    """Direction → task → one row per indicator, in the document's order and numbering.

    A measure's own cells repeat on each of its indicators' rows, so a filtered or sorted
    sheet still says which measure a row belongs to. Parts of the plan with no indicator in
    `progress` are left out.
    """
    by_id = {p.indicator.id: p for p in progress}
    known = {i.id for i in plan.indicators}
    stray = next((i for i in by_id if i not in known), None)
    if stray is not None:
        raise ValueError(f"indicator {stray!r} is not in the plan")
    blank = ("",) * (len(CSV_HEADER) - 1)
    rows: list[AnnexRow] = []
    for direction in plan.directions:
        of_direction: list[AnnexRow] = []
        for task in direction.tasks:
            of_task = [
                AnnexRow("indicator", _indicator_cells(measure, by_id[indicator.id]))
                for measure in task.measures
                for indicator in measure.indicators
                if indicator.id in by_id
            ]
            if of_task:
                heading = f"Завдання {task.code}. {task.title}"
                of_direction += [AnnexRow("task", (heading, *blank)), *of_task]
        if of_direction:
            heading = f"Стратегічний напрям {direction.code}. {direction.title}"
            rows += [AnnexRow("direction", (heading, *blank)), *of_direction]
    return rows


def _indicator_cells(measure: Measure, p: IndicatorProgress) -> tuple[str | int, ...]:
    monthly = p.months_total is not None
    return (
        measure.printed_code,
        measure.title,
        ", ".join(b.short for b in measure.responsible),
        measure.term,
        ", ".join(f.short for f in measure.funding),
        p.indicator.description,
        (p.months_total or 0) if monthly else p.target,
        progress_value(p) if monthly else p.actual,
        STATUS_UK[p.status],
        round(progress_share(p) * 100),
    )


def csv_rows(plan: Plan, progress: Sequence[IndicatorProgress]) -> list[list[str]]:
    """The rows of annex_rows as text, for a CSV under CSV_HEADER."""
    return [[str(cell) for cell in row.cells] for row in annex_rows(plan, progress)]
