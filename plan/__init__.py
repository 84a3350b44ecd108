"""The plan layer: Annex 4 as validated plain data, its search and rules. No aiogram, no SQL."""

from plan.loader import PlanError, load_plan
from plan.model import Direction, GlossaryEntry, Indicator, Measure, MinParticipants, Plan, Task

__all__ = [
    "Direction",
    "GlossaryEntry",
    "Indicator",
    "Measure",
    "MinParticipants",
    "Plan",
    "PlanError",
    "Task",
    "load_plan",
]
