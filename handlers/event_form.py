"""The event being proposed, and how an event is shown: steps, parsing, summary and card."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db.events import EventRecord
from formats.telegram_text import shorten
from handlers.activity_form import input_error as activity_input_error
from plan import Plan
from plan.codes import normalize_code
from plan.validation import InputError, clean_text, parse_whole

MAX_TITLE = 200
MAX_PLACE = 300
MAX_ORGANISER = 300
MAX_DESCRIPTION = 1000
MAX_CAPACITY = 100_000
_WHEN = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})[ ,T]+(\d{1,2})[:.](\d{2})")
_TIME = re.compile(r"(\d{1,2})[:.](\d{2})")


class EventForm(StatesGroup):
    title = State()
    starts = State()
    ends = State()
    place = State()
    organiser = State()
    measures = State()
    description = State()
    capacity = State()
    confirm = State()
    cancel = State()


class EventMove(StatesGroup):
    starts = State()
    ends = State()


class EventCb(CallbackData, prefix="ev"):
    """A button about events: `action` says what; `id` an event, `page` and `f` a list view."""

    action: str
    id: int = 0
    page: int = 0
    f: str = ""


STEPS: tuple[State, ...] = (
    EventForm.title,
    EventForm.starts,
    EventForm.ends,
    EventForm.place,
    EventForm.organiser,
    EventForm.measures,
    EventForm.description,
    EventForm.capacity,
    EventForm.confirm,
)


@dataclass
class EventDraft:
    """The proposal so far, as kept in FSM data (JSON-friendly values only)."""

    title: str | None = None
    starts: str | None = None  # ISO 8601 with offset
    ends: str | None = None
    place: str | None = None
    organiser: str | None = None
    organisation_id: int | None = None
    measures: list[str] = field(default_factory=list)
    description: str = ""
    capacity: int | None = None
    editing: bool = False

    @classmethod
    def load(cls, data: dict[str, Any]) -> EventDraft:
        known = {k: v for k, v in data.get("event", {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def dump(self) -> dict[str, Any]:
        return {"event": {k: getattr(self, k) for k in self.__dataclass_fields__}}


# --- parsing ----------------------------------------------------------------------------------


def parse_when(raw: str, timezone: ZoneInfo, now: datetime, day: date | None = None) -> datetime:
    """ДД.ММ.РРРР ГГ:ХХ in Kyiv time (or ГГ:ХХ alone on `day`), not in the past."""
    text = raw.strip()
    match = _WHEN.fullmatch(text)
    if match:
        d, m, y, hh, mm = (int(g) for g in match.groups())
    elif day is not None and (only_time := _TIME.fullmatch(text)):
        d, m, y = day.day, day.month, day.year
        hh, mm = (int(g) for g in only_time.groups())
    else:
        raise InputError("when_format")
    try:
        moment = datetime.combine(date(y, m, d), time(hh, mm), tzinfo=timezone)
    except ValueError:
        raise InputError("date_invalid") from None
    if moment <= now:
        raise InputError("when_past")
    return moment


def parse_end(raw: str, starts: datetime, timezone: ZoneInfo, now: datetime) -> datetime:
    ends = parse_when(raw, timezone, now, day=starts.astimezone(timezone).date())
    if ends <= starts:
        raise InputError("end_before_start")
    return ends


def parse_measures(raw: str, plan: Plan) -> list[str]:
    """Measure codes separated by commas or spaces; each must be in the plan."""
    codes: list[str] = []
    for part in re.split(r"[,;\s]+", raw.strip()):
        if not part:
            continue
        code = normalize_code(part)
        measure = plan.measure(code)
        if measure is None:
            printed = plan.by_printed_code(code)
            measure = printed[0] if len(printed) == 1 else None
        if measure is None:
            raise InputError("unknown_measure", code=escape(part[:20]))
        if measure.code not in codes:
            codes.append(measure.code)
    if not codes:
        raise InputError("empty")
    return codes


def parse_capacity(raw: str) -> int:
    return parse_whole(raw, minimum=1, maximum=MAX_CAPACITY)


def clean(raw: str, limit: int) -> str:
    return clean_text(raw, limit=limit)


def input_error(error: InputError) -> str:
    own = {
        "when_format": _(
            "I could not read the date and time. Please write them as ДД.ММ.РРРР ГГ:ХХ, e.g. "
            "15.03.2027 14:00."
        ),
        "when_past": _("That moment has passed: an event is announced for the future."),
        "end_before_start": _("The end must be after the start."),
        "unknown_measure": _("There is no measure {code} in the plan. Send codes like 2.1.3."),
    }
    if error.reason in own:
        return own[error.reason].format(**error.details)
    return activity_input_error(error)


# --- what the dialog shows --------------------------------------------------------------------


def keyboard(*buttons: tuple[str, EventCb], cancel: bool = True) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for text, data in buttons:
        builder.button(text=text, callback_data=data)
    if cancel:
        builder.button(text=_("✖ Cancel"), callback_data=EventCb(action="f_cancel"))
    builder.adjust(1)
    return builder.as_markup()


def prompt(
    step: State, draft: EventDraft, plan: Plan, timezone: ZoneInfo, organisation: str | None
) -> tuple[str, InlineKeyboardMarkup]:
    skip = (_("Skip ➡"), EventCb(action="f_skip"))
    if step == EventForm.title:
        return _("What is the event called? A short title (up to 200 characters)."), keyboard()
    if step == EventForm.starts:
        return (
            _(
                "When does it start? Kyiv time as <code>ДД.ММ.РРРР ГГ:ХХ</code>, "
                "e.g. 15.03.2027 14:00."
            ),
            keyboard(),
        )
    if step == EventForm.ends:
        return (
            _(
                "When does it end? <code>ДД.ММ.РРРР ГГ:ХХ</code>, or just <code>ГГ:ХХ</code> "
                "on the same day."
            ),
            keyboard(),
        )
    if step == EventForm.place:
        return _("Where? An address, or a link for an online event."), keyboard()
    if step == EventForm.organiser:
        buttons = []
        if organisation:
            # A button label is plain text: cut, never escaped (it showed "&amp;" cut to "&a").
            buttons.append((shorten(organisation, 60), EventCb(action="f_org")))
        return _("Who organises it? Write the name, or choose your organisation."), keyboard(
            *buttons
        )
    if step == EventForm.measures:
        return (
            _(
                "Which measures of the plan does it serve? Their codes, e.g. <code>2.1.3</code> "
                "or <code>2.1.2, 2.1.3</code>."
            ),
            keyboard(),
        )
    if step == EventForm.description:
        return _("Describe the event (up to 1000 characters), or skip."), keyboard(skip)
    if step == EventForm.capacity:
        return (
            _("How many places are there? A whole number, or skip if there is no limit."),
            keyboard((_("No limit ➡"), EventCb(action="f_skip"))),
        )
    return summary(draft, timezone)


def next_step(after: State, draft: EventDraft) -> State:
    if draft.editing:
        # A new start may leave the old end before it: then the end is asked too.
        if after == EventForm.starts and not _end_after_start(draft):
            return EventForm.ends
        return EventForm.confirm
    index = STEPS.index(after)
    return STEPS[index + 1]


def _end_after_start(draft: EventDraft) -> bool:
    if draft.starts is None or draft.ends is None:
        return False
    return datetime.fromisoformat(draft.ends) > datetime.fromisoformat(draft.starts)


def when_text(starts: datetime, ends: datetime, timezone: ZoneInfo) -> str:
    start, end = starts.astimezone(timezone), ends.astimezone(timezone)
    if start.date() == end.date():
        return f"{start:%d.%m.%Y %H:%M}–{end:%H:%M}"
    return f"{start:%d.%m.%Y %H:%M} – {end:%d.%m.%Y %H:%M}"


def place_text(place: str) -> str:
    if place.startswith(("https://", "http://")) and " " not in place:
        return f'<a href="{escape(place)}">{escape(place)}</a>'
    return escape(place)


def summary(draft: EventDraft, timezone: ZoneInfo) -> tuple[str, InlineKeyboardMarkup]:
    dash = "—"
    when = dash
    if draft.starts and draft.ends:
        when = when_text(
            datetime.fromisoformat(draft.starts), datetime.fromisoformat(draft.ends), timezone
        )
    lines = [
        _("<b>Check the event</b>"),
        "",
        _("<b>Title:</b> {value}").format(value=escape(draft.title or dash)),
        _("<b>When:</b> {value}").format(value=when),
        _("<b>Where:</b> {value}").format(value=place_text(draft.place or dash)),
        _("<b>Organiser:</b> {value}").format(value=escape(draft.organiser or dash)),
        _("<b>Measures:</b> {value}").format(value=", ".join(draft.measures) or dash),
        _("<b>Description:</b> {value}").format(value=escape(draft.description or dash)),
        _("<b>Places:</b> {value}").format(
            value=draft.capacity if draft.capacity else _("no limit")
        ),
    ]
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Confirm"), callback_data=EventCb(action="f_submit"))
    for text, value in (
        (_("✏ Title"), "title"),
        (_("✏ Start"), "starts"),
        (_("✏ End"), "ends"),
        (_("✏ Place"), "place"),
        (_("✏ Organiser"), "organiser"),
        (_("✏ Measures"), "measures"),
        (_("✏ Description"), "description"),
        (_("✏ Places"), "capacity"),
    ):
        builder.button(text=text, callback_data=EventCb(action="f_edit", f=value))
    builder.button(text=_("✖ Cancel"), callback_data=EventCb(action="f_cancel"))
    builder.adjust(1, 2, 2, 2, 2, 1)
    return "\n".join(lines), builder.as_markup()


def card_lines(event: EventRecord, plan: Plan, timezone: ZoneInfo) -> list[str]:
    """An event as everyone sees it; every text a person typed is escaped."""
    lines = [f"📅 <b>{escape(event.title)}</b>"]
    if event.status == "cancelled":
        lines.append(_("❌ Cancelled"))
    elif event.status == "pending":
        lines.append(_("⏳ Waiting for a coordinator's approval"))
    lines += [
        _("<b>When:</b> {value}").format(
            value=when_text(event.starts_at, event.ends_at, timezone)
        ),
        _("<b>Where:</b> {value}").format(value=place_text(event.place)),
        _("<b>Organiser:</b> {value}").format(value=escape(event.organiser)),
    ]
    measures = []
    for code in event.measures:
        measure = plan.measure(code)
        measures.append(f"{code} {escape(measure.title)}" if measure else code)
    if measures:
        lines.append(_("<b>Measures:</b> {value}").format(value="; ".join(measures)))
    if event.description:
        lines += ["", escape(event.description)]
    if event.capacity:
        lines.append(
            _("<b>Coming:</b> {going} of {capacity} places; waiting: {waiting}").format(
                going=event.going, capacity=event.capacity, waiting=event.waiting
            )
        )
    else:
        lines.append(_("<b>Coming:</b> {going}").format(going=event.going))
    return lines
