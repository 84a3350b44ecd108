"""The activity report being filled in: its steps, and what each step shows and accepts.

The draft lives in the dialog's FSM data (stored in the database), so it survives a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from plan import Indicator, Measure, Plan
from plan.model import cso_participants_unit
from plan.validation import InputError


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


class ActivityCb(CallbackData, prefix="act"):
    """A button inside the report dialog: `action` says what, `value` carries the choice."""

    action: str
    value: str = ""


# The order of the steps; a step that does not apply to the chosen indicator is skipped.
STEPS: tuple[State, ...] = (
    ActivityForm.measure,
    ActivityForm.indicator,
    ActivityForm.date,
    ActivityForm.title,
    ActivityForm.description,
    ActivityForm.quantity,
    ActivityForm.cso,
    ActivityForm.council,
    ActivityForm.co_organisers,
    ActivityForm.evidence,
    ActivityForm.confirm,
)


@dataclass
class Draft:
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
    editing: bool = False
    activity_id: int | None = None  # set when a returned report is being corrected

    @classmethod
    def load(cls, data: dict[str, Any]) -> Draft:
        known = {k: v for k, v in data.get("draft", {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def dump(self) -> dict[str, Any]:
        return {"draft": {k: getattr(self, k) for k in self.__dataclass_fields__}}


def applies(step: State, draft: Draft, plan: Plan) -> bool:
    indicator = plan.indicator(draft.indicator or "")
    if step == ActivityForm.indicator:
        measure = plan.measure(draft.measure or "")
        return measure is not None and len(measure.indicators) > 1
    if step == ActivityForm.quantity:
        return indicator is not None and indicator.kind == "count"
    if step in (ActivityForm.cso, ActivityForm.council):
        return indicator is not None and indicator.min_participants is not None
    return step != ActivityForm.cancel


def next_step(after: State, draft: Draft, plan: Plan) -> State:
    """The step after `after`; while editing from the summary, straight back to it."""
    if draft.editing and after not in (ActivityForm.measure, ActivityForm.indicator):
        return ActivityForm.confirm
    index = STEPS.index(after)
    for step in STEPS[index + 1 :]:
        if applies(step, draft, plan) and (not draft.editing or _missing(step, draft)):
            return step
    return ActivityForm.confirm


def _missing(step: State, draft: Draft) -> bool:
    """While editing, only steps the new measure or indicator left unanswered are asked."""
    value = {
        ActivityForm.indicator: draft.indicator,
        ActivityForm.quantity: draft.quantity,
        ActivityForm.cso: draft.cso,
        ActivityForm.council: draft.council,
    }.get(step, "answered")
    return value is None


def keyboard(*buttons: tuple[str, ActivityCb], cancel: bool = True) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for text, data in buttons:
        builder.button(text=text, callback_data=data)
    if cancel:
        builder.button(text=_("✖ Cancel"), callback_data=ActivityCb(action="cancel"))
    builder.adjust(1)
    return builder.as_markup()


def skip_button() -> tuple[str, ActivityCb]:
    return _("Skip ➡"), ActivityCb(action="skip")


def indicator_label(indicator: Indicator) -> str:
    return f"{indicator.description}"


def prompt(step: State, draft: Draft, plan: Plan) -> tuple[str, InlineKeyboardMarkup]:
    """What the bot asks at a step, with its buttons."""
    measure = plan.measure(draft.measure or "")
    indicator = plan.indicator(draft.indicator or "")
    if step == ActivityForm.measure:
        return (
            _(
                "Which measure of the plan did you carry out? Send its code (e.g. "
                "<code>1.1.1</code>) or a few words to find it."
            ),
            keyboard(),
        )
    if step == ActivityForm.indicator and measure is not None:
        buttons = [
            (i.description, ActivityCb(action="indicator", value=i.id)) for i in measure.indicators
        ]
        return _("Which result of measure {code} does it count towards?").format(
            code=measure.code
        ), keyboard(*buttons)
    if step == ActivityForm.date:
        return (
            _("When did it take place? Date as <code>ДД.ММ.РРРР</code>, e.g. {example}.").format(
                example=plan.start.strftime("%d.%m.%Y")
            ),
            keyboard(),
        )
    if step == ActivityForm.title:
        return _("What was done? A short title (up to 200 characters)."), keyboard()
    if step == ActivityForm.description:
        return (
            _("Describe it in a few sentences (up to 1000 characters), or skip."),
            keyboard(skip_button()),
        )
    if step == ActivityForm.quantity and indicator is not None:
        if indicator.counts_people:
            text = _("How many people does it add ({unit})? A whole number.").format(
                unit=escape(indicator.unit)
            )
            return text, keyboard()
        return (
            _("How many does it add ({unit})? Usually 1 for one event.").format(
                unit=escape(indicator.unit)
            ),
            keyboard(("1", ActivityCb(action="quantity", value="1"))),
        )
    if step == ActivityForm.cso and indicator is not None and indicator.min_participants:
        return (
            (
                _("How many CSOs (organisations) took part? (The plan asks for at least {n}.)")
                if cso_participants_unit(indicator) == "organisations"
                else _(
                    "How many CSO representatives took part? (The plan asks for at least {n} "
                    "per event.)"
                )
            ).format(n=indicator.min_participants.cso),
            keyboard(),
        )
    if step == ActivityForm.council and indicator is not None and indicator.min_participants:
        return (
            _(
                "How many City Council representatives took part? (The plan asks for at least "
                "{n}.)"
            ).format(n=indicator.min_participants.council),
            keyboard(),
        )
    if step == ActivityForm.co_organisers:
        return (
            _("Did other organisations co-organise it? Write their names, or skip."),
            keyboard(skip_button()),
        )
    if step == ActivityForm.evidence:
        return (
            _(
                "Evidence: send a link, a photo or a document (e.g. a post or a sign-in sheet), "
                "or skip."
            ),
            keyboard(skip_button()),
        )
    return summary(draft, plan)


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
        (_("✏ Measure"), ActivityCb(action="edit", value="measure")),
        (_("✏ Date"), ActivityCb(action="edit", value="date")),
        (_("✏ Title"), ActivityCb(action="edit", value="title")),
        (_("✏ Description"), ActivityCb(action="edit", value="description")),
    ]
    if indicator is not None and indicator.kind == "count":
        edit.append((_("✏ Quantity"), ActivityCb(action="edit", value="quantity")))
    if indicator is not None and indicator.min_participants:
        edit.append((_("✏ Participants"), ActivityCb(action="edit", value="cso")))
    edit += [
        (_("✏ Co-organisers"), ActivityCb(action="edit", value="co_organisers")),
        (_("✏ Evidence"), ActivityCb(action="edit", value="evidence")),
    ]
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Submit for review"), callback_data=ActivityCb(action="submit"))
    for text, data in edit:
        builder.button(text=text, callback_data=data)
    builder.button(text=_("✖ Cancel"), callback_data=ActivityCb(action="cancel"))
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
            value=date.fromisoformat(draft.date).strftime("%d.%m.%Y") if draft.date else dash
        ),
        _("<b>Title:</b> {value}").format(value=escape(draft.title or dash)),
        _("<b>Description:</b> {value}").format(value=escape(draft.description or dash)),
    ]
    if indicator is not None and indicator.kind == "count":
        lines.append(_("<b>Quantity:</b> {value}").format(value=draft.quantity or dash))
    if indicator is not None and indicator.min_participants:
        lines.append(
            _("<b>Participants:</b> CSO {cso}, City Council {council}").format(
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
    return _(
        "⚠ Below the plan's minimum ({cso} CSO and {council} City Council representatives): "
        "the report can be submitted, but it will not count towards this result."
    ).format(cso=indicator.min_participants.cso, council=indicator.min_participants.council)


def input_error(error: InputError) -> str:
    """A refusal in words, with the reason; the step is asked again after it."""
    d = error.details
    messages = {
        "date_format": _(
            "I could not read the date. Please write it as ДД.ММ.РРРР, e.g. 15.03.2024."
        ),
        "date_invalid": _(
            "There is no such date in the calendar. Please check the day and month."
        ),
        "date_future": _(
            "The date is in the future: report activities that have already taken place."
        ),
        "date_outside_plan": _(
            "The loaded plan covers {start} – {end}; this date is outside it. For activities of "
            "another period, please ask the coordinators (ІРМ)."
        ),
        "not_a_number": _("Please send a whole number in digits, e.g. 1 or 25."),
        "too_small": _("The number must be at least {minimum}."),
        "too_large": _("That is more than {maximum}: please check the number."),
        "empty": _("This cannot be empty."),
        "too_long": _("That is too long: {length} characters, at most {limit}."),
        "not_a_link": _(
            "That is not a link. Send a link starting with https://, a photo or a document."
        ),
    }
    text = messages.get(error.reason, _("That did not work. Please try again."))
    values = {k: v.strftime("%d.%m.%Y") if isinstance(v, date) else v for k, v in d.items()}
    return text.format(**values)
