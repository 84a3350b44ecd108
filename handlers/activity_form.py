"""The activity report as a form: its draft and its steps, declared for the form engine.

The draft lives in the dialog's FSM data (stored in the database), so it survives a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from aiogram import F
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from formats.dates import long_date, typed_date
from handlers import commands
from handlers.forms import (
    CONFIRM,
    STAY,
    Act,
    Form,
    FormCb,
    FormDraft,
    FormTexts,
    Question,
    Skip,
    Step,
    Turn,
    refusal,
    text_step,
)
from handlers.plan_views import short
from handlers.reply import answer
from plan import Indicator, Measure, Plan
from plan.codes import measures_by_code
from plan.model import cso_participants_unit
from plan.validation import (
    MAX_DESCRIPTION,
    MAX_TITLE,
    parse_participants,
    parse_quantity,
    parse_url,
)

SEARCH_CHOICES = 6


class ActivityForm(StatesGroup):
    measure = State()
    indicator = State()
    date = State()
    title = State()
    description = State()
    quantity = State()
    cso = State()
    council = State()
    co_organisers = State()
    evidence = State()
    confirm = State()
    cancel = State()


class ActivityCb(FormCb, prefix="act"):
    """A button inside the report dialog."""


@dataclass
class Draft(FormDraft):
    """The report so far, as kept in FSM data (JSON-friendly values only)."""

    measure: str | None = None
    indicator: str | None = None
    date: str | None = None
    title: str | None = None
    description: str = ""
    quantity: int | None = None
    cso: int | None = None
    council: int | None = None
    co_organisers: str = ""
    evidence_kind: str | None = None
    evidence: str | None = None
    activity_id: int | None = None  # set when a returned report is being corrected


def _indicator(turn: Turn[Draft]) -> Indicator | None:
    return turn.plan.indicator(turn.draft.indicator or "")


def _measure(turn: Turn[Draft]) -> Measure | None:
    return turn.plan.measure(turn.draft.measure or "")


def _default_quantity(draft: Draft, plan: Plan) -> None:
    indicator = plan.indicator(draft.indicator or "")
    if indicator is not None and indicator.kind == "milestone":
        draft.quantity = 1


# --- measure and indicator ------------------------------------------------------------------


def ask_measure(turn: Turn[Draft]) -> Question:
    return Question(
        _(
            "Which measure of the plan did you carry out? Send its code (e.g. "
            "<code>1.1.1</code>) or a few words to find it."
        )
    )


async def read_measure(turn: Turn[Draft], raw: str) -> Any:
    """A code picks the measure; words (or a doubled printed code) offer the candidates."""
    if turn.pressed:
        return raw if turn.plan.measure(raw) is not None else STAY
    by_code = measures_by_code(turn.plan, raw)
    if len(by_code) == 1:
        return by_code[0].code
    candidates = list(by_code) or [h.measure for h in turn.search.search(raw, SEARCH_CHOICES)]
    if not candidates:
        await answer(
            turn.message,
            _("I found no measure for that. Try its code, e.g. 1.1.1, or other words."),
        )
        return STAY
    question = Question(
        _("Which one?"), [(short(f"{m.code}. {m.title}"), m.code) for m in candidates]
    )
    await answer(turn.message, question.text, turn.form.keyboard(STEPS[0], question))
    return STAY


async def store_measure(turn: Turn[Draft], code: str) -> None:
    draft, measure = turn.draft, turn.plan.measure(code)
    assert measure is not None
    if draft.measure != code:
        # Another measure means another indicator: what depended on the old one is asked again.
        draft.measure, draft.indicator = code, None
        draft.quantity = draft.cso = draft.council = None
    if len(measure.indicators) == 1:
        draft.indicator = measure.indicators[0].id
        _default_quantity(draft, turn.plan)
    await answer(
        turn.message,
        _("Measure {code}: {title}").format(code=code, title=escape(measure.title)),
    )


def ask_indicator(turn: Turn[Draft]) -> Question:
    measure = _measure(turn)
    assert measure is not None
    return Question(
        _("Which result of measure {code} does it count towards?").format(code=measure.code),
        [(i.description, i.id) for i in measure.indicators],
    )


def pick_indicator(turn: Turn[Draft], value: str) -> Any:
    indicator = turn.plan.indicator(value)
    if indicator is None or indicator.measure_code != turn.draft.measure:
        return STAY
    return indicator.id


def store_indicator(turn: Turn[Draft], indicator_id: str) -> None:
    draft = turn.draft
    if draft.indicator != indicator_id:
        draft.indicator, draft.quantity, draft.cso, draft.council = indicator_id, None, None, None
    _default_quantity(draft, turn.plan)


def _has_many_indicators(turn: Turn[Draft]) -> bool:
    measure = _measure(turn)
    return measure is not None and len(measure.indicators) > 1


# --- the other questions --------------------------------------------------------------------


def ask_date(turn: Turn[Draft]) -> Question:
    return Question(
        _("When did it take place? Date as <code>ДД.ММ.РРРР</code>, e.g. {example}.").format(
            example=typed_date(turn.plan.start)
        )
    )


def ask_quantity(turn: Turn[Draft]) -> Question:
    indicator = _indicator(turn)
    assert indicator is not None
    if indicator.counts_people:
        return Question(
            _("How many people does it add ({unit})? A whole number.").format(
                unit=escape(indicator.unit)
            )
        )
    return Question(
        _("How many does it add ({unit})? Usually 1 for one event.").format(
            unit=escape(indicator.unit)
        ),
        [("1", "1")],
    )


def ask_cso(turn: Turn[Draft]) -> Question:
    indicator = _indicator(turn)
    assert indicator is not None and indicator.min_participants is not None
    question = (
        # 2.4.4 counts the organisations themselves ("мінімум 20 ІГС"), 2.1.2 their people.
        _("How many CSOs (organisations) took part? (The plan asks for at least {n}.)")
        if cso_participants_unit(indicator) == "organisations"
        else _(
            "How many CSO representatives took part? (The plan asks for at least {n} per event.)"
        )
    )
    return Question(question.format(n=indicator.min_participants.cso))


def ask_council(turn: Turn[Draft]) -> Question:
    indicator = _indicator(turn)
    assert indicator is not None and indicator.min_participants is not None
    return Question(
        _(
            "How many City Council representatives took part? (The plan asks for at least {n}.)"
        ).format(n=indicator.min_participants.council)
    )


def read_evidence(turn: Turn[Draft], raw: str) -> tuple[str, str]:
    message = turn.message
    if message.photo:
        return "photo", message.photo[-1].file_id
    if message.document:
        return "document", message.document.file_id
    return "link", parse_url(raw)


def store_evidence(turn: Turn[Draft], evidence: tuple[str, str] | None) -> None:
    turn.draft.evidence_kind, turn.draft.evidence = evidence or (None, None)


def _counts(turn: Turn[Draft]) -> bool:
    indicator = _indicator(turn)
    return indicator is not None and indicator.kind == "count"


def _has_thresholds(turn: Turn[Draft]) -> bool:
    indicator = _indicator(turn)
    return indicator is not None and indicator.min_participants is not None


def ask_summary(turn: Turn[Draft]) -> Question:
    text, markup = summary(turn.draft, turn.plan)
    return Question(text, markup=markup)


STEPS: tuple[Step[Draft], ...] = (
    Step("measure", ask_measure, read=read_measure, pick=read_measure, store=store_measure),
    Step(
        "indicator",
        ask_indicator,
        pick=pick_indicator,
        store=store_indicator,
        applies=_has_many_indicators,
        missing=lambda d: d.indicator is None,
    ),
    Step(
        "date",
        ask_date,
        read=lambda t, raw: t.plans.parse_date(raw, t.clock.today()).isoformat(),
    ),
    text_step(
        "title", lambda: _("What was done? A short title (up to 200 characters)."), MAX_TITLE
    ),
    text_step(
        "description",
        lambda: _("Describe it in a few sentences (up to 1000 characters), or skip."),
        MAX_DESCRIPTION,
        skip=Skip(""),
    ),
    Step(
        "quantity",
        ask_quantity,
        read=lambda t, raw: parse_quantity(raw),
        pick=lambda t, raw: parse_quantity(raw),
        applies=_counts,
        missing=lambda d: d.quantity is None,
    ),
    # The council count always follows the CSO count, also when editing.
    Step(
        "cso",
        ask_cso,
        read=lambda t, raw: parse_participants(raw),
        applies=_has_thresholds,
        missing=lambda d: d.cso is None,
        then="council",
    ),
    Step(
        "council",
        ask_council,
        read=lambda t, raw: parse_participants(raw),
        applies=_has_thresholds,
        missing=lambda d: d.council is None,
    ),
    text_step(
        "co_organisers",
        lambda: _("Did other organisations co-organise it? Write their names, or skip."),
        MAX_TITLE * 2,
        skip=Skip(""),
    ),
    Step(
        "evidence",
        lambda t: Question(
            _(
                "Evidence: send a link, a photo or a document (e.g. a post or a sign-in sheet), "
                "or skip."
            )
        ),
        read=read_evidence,
        store=store_evidence,
        accepts=F.text | F.photo | F.document,
        skip=Skip(None),
    ),
    Step(CONFIRM, ask_summary),
)


ACTIVITY = Form(
    states=ActivityForm,
    draft=Draft,
    callback=ActivityCb,
    steps=STEPS,
    texts=FormTexts(
        discard_question=lambda: _("Discard this report? What you have entered will be lost."),
        discarded=lambda: _("The report was discarded. Nothing was sent."),
        unexpected=lambda step: _("I expected something else here."),
        unfinished=lambda: _("You have an unfinished report; let us continue it."),
        offer=lambda: _("You have an unfinished report. Continue it?"),
    ),
    refusal=refusal,
    command=commands.ACTIVITY.name,
)


# --- the summary ------------------------------------------------------------------------------


def summary(draft: Draft, plan: Plan) -> tuple[str, InlineKeyboardMarkup]:
    measure = plan.measure(draft.measure or "")
    indicator = plan.indicator(draft.indicator or "")
    lines = [_("<b>Check your report</b>"), ""]
    lines += field_lines(draft, measure, indicator)
    if (
        indicator is not None
        and indicator.min_participants
        and not meets_thresholds(draft, indicator)
    ):
        lines += ["", warning_below_thresholds(indicator)]
    edit = [
        (_("✏ Measure"), "measure"),
        (_("✏ Date"), "date"),
        (_("✏ Title"), "title"),
        (_("✏ Description"), "description"),
    ]
    if indicator is not None and indicator.kind == "count":
        edit.append((_("✏ Quantity"), "quantity"))
    if indicator is not None and indicator.min_participants:
        edit.append((_("✏ Participants"), "cso"))
    edit += [(_("✏ Co-organisers"), "co_organisers"), (_("✏ Evidence"), "evidence")]
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Submit for review"), callback_data=ActivityCb(action=Act.submit))
    for text, step in edit:
        builder.button(text=text, callback_data=ActivityCb(action=Act.edit, value=step))
    builder.button(text=_("✖ Cancel"), callback_data=ActivityCb(action=Act.cancel))
    builder.adjust(1, 2, 2, 2, 2, 2)
    return "\n".join(lines), builder.as_markup()


def field_lines(draft: Draft, measure: Measure | None, indicator: Indicator | None) -> list[str]:
    dash = "—"
    lines = [
        _("<b>Measure:</b> {value}").format(
            value=f"{measure.code} {escape(measure.title)}" if measure else dash
        ),
        _("<b>Result:</b> {value}").format(
            value=escape(indicator.description) if indicator else dash
        ),
        _("<b>Date:</b> {value}").format(
            value=long_date(date.fromisoformat(draft.date), get_i18n().current_locale)
            if draft.date
            else dash
        ),
        _("<b>Title:</b> {value}").format(value=escape(draft.title or dash)),
        _("<b>Description:</b> {value}").format(value=escape(draft.description or dash)),
    ]
    if indicator is not None and indicator.kind == "count":
        lines.append(_("<b>Quantity:</b> {value}").format(value=draft.quantity or dash))
    if indicator is not None and indicator.min_participants:
        lines.append(
            (
                _("<b>Participants:</b> CSOs (organisations) {cso}, City Council {council}")
                if cso_participants_unit(indicator) == "organisations"
                else _("<b>Participants:</b> CSO {cso}, City Council {council}")
            ).format(
                cso=dash if draft.cso is None else draft.cso,
                council=dash if draft.council is None else draft.council,
            )
        )
    lines.append(
        _("<b>Co-organisers:</b> {value}").format(value=escape(draft.co_organisers or dash))
    )
    lines.append(_("<b>Evidence:</b> {value}").format(value=evidence_label(draft)))
    return lines


def evidence_label(draft: Draft) -> str:
    if draft.evidence_kind == "link" and draft.evidence:
        return escape(draft.evidence)
    if draft.evidence_kind == "photo":
        return _("a photo")
    if draft.evidence_kind == "document":
        return _("a document")
    return "—"


def meets_thresholds(draft: Draft, indicator: Indicator) -> bool:
    minimum = indicator.min_participants
    if minimum is None:
        return True
    return (draft.cso or 0) >= minimum.cso and (draft.council or 0) >= minimum.council


def warning_below_thresholds(indicator: Indicator) -> str:
    assert indicator.min_participants is not None
    warning = (
        _(
            "⚠ Below the plan's minimum ({cso} CSOs and {council} City Council "
            "representatives): the report can be submitted, but it will not count towards "
            "this result."
        )
        if cso_participants_unit(indicator) == "organisations"
        else _(
            "⚠ Below the plan's minimum ({cso} CSO and {council} City Council representatives): "
            "the report can be submitted, but it will not count towards this result."
        )
    )
    return warning.format(
        cso=indicator.min_participants.cso, council=indicator.min_participants.council
    )
