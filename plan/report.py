"""Reports on the plan: progress laid out as JSON, text and Annex 4 CSV rows.

Pure functions over the plan and the progress engine's output; no database here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from plan.model import Plan
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
    "csv_rows",
    "progress_value",
    "report_dict",
    "report_text",
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


CSV_HEADER: tuple[str, ...] = (
    "measure",
    "responsible",
    "term",
    "funding",
    "expected_result",
    "target",
    "actual",
    "progress",
    "status",
)


def csv_rows(plan: Plan, progress: Sequence[IndicatorProgress]) -> list[list[str]]:
    """One row per indicator, laid out like Annex 4; the header is CSV_HEADER.

    A monthly indicator's target and actual are its months (12 and those met), so the numbers
    say what "9 з 12 місяців" says.
    """
    rows = []
    for p in progress:
        measure = plan.measure(p.indicator.measure_code)
        if measure is None:
            raise ValueError(f"indicator {p.indicator.id!r} is not in the plan")
        rows.append(
            [
                measure.code,
                ", ".join(b.short for b in measure.responsible),
                measure.term,
                ", ".join(f.short for f in measure.funding),
                p.indicator.description,
                str(p.target if p.months_total is None else p.months_total),
                str(p.actual if p.months_total is None else (p.months_met or 0)),
                progress_value(p),
                p.status,
            ]
        )
    return rows
