"""The plan as JSON-ready data, in the shape `cso-bot plan export --format json` promises."""

from __future__ import annotations

from typing import Any

from plan.model import Indicator, Measure, Plan


def indicator_to_dict(indicator: Indicator) -> dict[str, Any]:
    minimum = indicator.min_participants
    return {
        "id": indicator.id,
        "kind": indicator.kind,
        # A milestone is met once: its target is 1 over the whole plan.
        "target": indicator.target,
        "period": indicator.period,
        "unit": indicator.unit,
        "description": indicator.description,
        "min_participants": (
            {"cso": minimum.cso, "council": minimum.council} if minimum is not None else None
        ),
        # The unit each threshold is counted in (2.4.4 counts organisations, not people).
        "min_participants_unit": (
            {"cso": minimum.cso_unit, "council": minimum.council_unit}
            if minimum is not None
            else None
        ),
        "part_of": indicator.part_of,
    }


def measure_to_dict(measure: Measure) -> dict[str, Any]:
    return {
        "code": measure.code,
        "printed_code": measure.printed_code,
        "direction": measure.direction_code,
        "task": measure.task_code,
        "title": measure.title,
        "responsible": [b.full for b in measure.responsible],
        "term": measure.term,
        "funding": [f.full for f in measure.funding],
        "expected_results": measure.expected_results,
        "keywords_en": list(measure.keywords_en),
        "indicators": [indicator_to_dict(i) for i in measure.indicators],
    }


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "plan": {
            "id": plan.id,
            "title": plan.title,
            "decision": plan.decision,
            "period": {"start": plan.start.isoformat(), "end": plan.end.isoformat()},
        },
        "directions": [
            {
                "code": d.code,
                "title": d.title,
                "tasks": [{"code": t.code, "title": t.title} for t in d.tasks],
            }
            for d in plan.directions
        ],
        "measures": [measure_to_dict(m) for m in plan.measures],
    }
