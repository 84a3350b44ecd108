"""Reports on the plan: progress laid out as JSON, text and Annex 4 CSV rows.

Pure functions over the plan and the progress engine's output; no database here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from plan.model import Plan
from plan.progress import IndicatorProgress, summarize

__all__ = [
    "CSV_HEADER",
    "STATUS_UK",
    "csv_rows",
    "report_dict",
    "report_text",
]

STATUS_UK = {
    "achieved": "виконано",
    "on_track": "за графіком",
    "behind": "із відставанням",
    "not_started": "не розпочато",
}


def report_dict(plan: Plan, year: int, progress: Sequence[IndicatorProgress]) -> dict[str, Any]:
    """The year's progress in the report's JSON shape."""
    indicators = []
    for p in progress:
        entry: dict[str, Any] = {
            "measure": p.indicator.measure_code,
            "indicator": p.indicator.id,
            "kind": p.indicator.kind,
            "period": p.indicator.period,
            "target": p.target,
            "actual": p.actual,
            "met": p.met,
        }
        if p.indicator.kind == "count" and p.indicator.period == "month":
            entry["months_met"] = p.months_met or 0
        entry["status"] = p.status
        indicators.append(entry)
    summaries = summarize(progress, plan)
    whole = summaries[""]
    return {
        "year": year,
        "plan_id": plan.id,
        "indicators": indicators,
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


def report_text(plan: Plan, year: int, progress: Sequence[IndicatorProgress]) -> str:
    """The year's progress in Ukrainian, one line per indicator."""
    lines = [f"Звіт про виконання плану {plan.id} за {year} рік"]
    for p in progress:
        mark = "✅" if p.met else "❌"
        line = f"{p.indicator.measure_code} {p.indicator.description}: {p.actual}/{p.target}"
        if p.months_met is not None:
            line += f" (місяців виконано: {p.months_met})"
        lines.append(f"{line} {mark}")
    whole = summarize(progress, plan)[""]
    lines.append(f"Виконано показників: {whole.met} з {whole.total}")
    return "\n".join(lines) + "\n"


CSV_HEADER: tuple[str, ...] = (
    "measure",
    "responsible",
    "term",
    "funding",
    "expected_result",
    "target",
    "actual",
    "status",
)


def csv_rows(plan: Plan, progress: Sequence[IndicatorProgress]) -> list[list[str]]:
    """One row per indicator, laid out like Annex 4; the header is CSV_HEADER."""
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
                str(p.target),
                str(p.actual),
                p.status,
            ]
        )
    return rows
