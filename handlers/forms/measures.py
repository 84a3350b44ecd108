"""Measure codes as the forms read them: canonical or printed codes, and words to search.

The document prints 1.4.3 for two measures (plan/codes.py measures_by_code is the owner of that
rule): such a code, or words instead of codes, make the step offer the measures to choose from,
as /measure does, instead of a refusal.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _

from handlers.forms.engine import STAY, Question, Step, Turn
from handlers.reply import answer
from plan import Measure, Plan
from plan.codes import measures_by_code
from plan.validation import InputError

SEARCH_CHOICES = 6
_MAX_VALUE = 48  # a choice's codes must fit a button's 64 bytes with the prefix
_SPLIT = re.compile(r"[,;\s]+")


class AmbiguousMeasure(InputError):
    """A printed code that stands for several measures; `codes` are the other parts, read."""

    def __init__(self, code: str, measures: tuple[Measure, ...], codes: list[str]) -> None:
        super().__init__("ambiguous_measure", code=escape(code[:20]), n=len(measures))
        self.measures = measures
        self.codes = codes


def parse_measures(raw: str, plan: Plan) -> list[str]:
    """Measure codes separated by commas or spaces; each must mean one measure of the plan."""
    codes: list[str] = []
    parts = [p for p in _SPLIT.split(raw.strip()) if p]
    for i, part in enumerate(parts):
        found = measures_by_code(plan, part)
        if len(found) > 1:
            rest = parse_measures(" ".join(parts[i + 1 :]), plan) if parts[i + 1 :] else []
            raise AmbiguousMeasure(part, found, codes + [c for c in rest if c not in codes])
        if not found:
            raise InputError("unknown_measure", code=escape(part[:20]))
        if found[0].code not in codes:
            codes.append(found[0].code)
    if not codes:
        raise InputError("empty")
    return codes


def _choices(turn: Turn[Any], raw: str) -> tuple[str, list[Measure], list[str]] | None:
    """What to offer instead of refusing: (the question, the measures, codes they join)."""
    try:
        parse_measures(raw, turn.plan)
    except AmbiguousMeasure as e:
        text = _("In the document, number {code} is printed for {n} measures: which one?")
        return text.format(**e.details), list(e.measures), e.codes
    except InputError:
        if any(c.isdigit() for c in raw):
            return None
        found = [h.measure for h in turn.search.search(raw, SEARCH_CHOICES)]
        if found:
            return _("Which measure do you mean?"), found, []
    return None


async def read_measures(turn: Turn[Any], raw: str) -> Any:
    """A step's reader: the codes, or (for a doubled code or words) the measures to choose."""
    if turn.pressed:
        return parse_measures(raw, turn.plan)
    try:
        return parse_measures(raw, turn.plan)
    except InputError:
        offer = _choices(turn, raw)
        if offer is None:
            raise
    text, measures, codes = offer
    buttons = []
    for m in measures:
        value = ",".join([*codes, m.code] if m.code not in codes else codes)
        if len(value.encode()) <= _MAX_VALUE:
            buttons.append((f"{m.code}. {m.title}", value))
    step: Step[Any] | None = turn.form.step_at(await turn.state.get_state())
    assert step is not None
    await answer(turn.message, text, turn.form.keyboard(step, Question(text, buttons)))
    return STAY
