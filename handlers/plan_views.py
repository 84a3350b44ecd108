"""How the plan looks in a chat: texts and keyboards for the plan tree and the glossaries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _

from formats.dates import long_date
from formats.site import SiteLinks

# Cutting labels is formats.telegram_text's rule; `short` is imported from here as before.
from formats.telegram_text import shorten as short
from handlers.callbacks import (
    GlossaryCb,
    GlossaryKind,
    MenuAction,
    MenuCb,
    PlanCb,
    PlanLevel,
)
from handlers.keyboards import PerNode
from plan import Direction, GlossaryEntry, Indicator, Measure, Plan, Task
from plan.plans import Plans

# Each view's keyboard depends only on the plan's nodes it shows, its options and the locale:
# built once, then reused (a keyboard with anything about the reader must not be kept here).
_plan_keyboards: PerNode[InlineKeyboardMarkup] = PerNode()
_direction_keyboards: PerNode[InlineKeyboardMarkup] = PerNode()
_task_keyboards: PerNode[InlineKeyboardMarkup] = PerNode()
_measure_keyboards: PerNode[InlineKeyboardMarkup] = PerNode()
_glossary_keyboards: PerNode[InlineKeyboardMarkup] = PerNode()
_entry_keyboards: PerNode[InlineKeyboardMarkup] = PerNode()
_buttons: PerNode[InlineKeyboardButton] = PerNode()


def _button(text: str, data: PlanCb | GlossaryCb | MenuCb) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=short(text), callback_data=data.pack())


def _keyboard(
    rows: Iterable[InlineKeyboardButton], *footer: InlineKeyboardButton
) -> InlineKeyboardMarkup:
    # Built directly: InlineKeyboardBuilder deep-copies its buttons, a tenth of an update's time.
    keyboard = [[button] for button in rows]
    if footer:
        keyboard.append(list(footer))
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def back_to_menu() -> InlineKeyboardButton:
    return _buttons.get(
        (), ("menu",), lambda: _button(_("☰ Menu"), MenuCb(action=MenuAction.main))
    )


def back_to_plan(at: int | None = None) -> InlineKeyboardButton:
    return _buttons.get(
        (),
        ("plan", at),
        lambda: _button(_("⬆ Plan"), PlanCb(level=PlanLevel.directions, plan=at)),
    )


def _shown(day: date) -> str:
    return long_date(day, get_i18n().current_locale)


def years(plan: Plan) -> str:
    return f"{plan.start.year}–{plan.end.year}"


def period_line(plan: Plan, today: date) -> str | None:
    """A line saying the plan is not running today: its period ended, or has not begun."""
    if plan.end < today:
        return _("⚠ The period of this plan ended on {end}.").format(end=_shown(plan.end))
    if today < plan.start:
        return _("⚠ This plan begins on {start}.").format(start=_shown(plan.start))
    return None


def plan_view(
    plan: Plan,
    today: date,
    at: int | None = None,
    others: Sequence[tuple[int, Plan]] = (),
) -> tuple[str, InlineKeyboardMarkup]:
    """The plan's root: the current plan (`at` None) with buttons to the other loaded plans,
    the archive; or another plan (`at` its index) with a way back to the current one."""
    ended = period_line(plan, today)
    lines = [
        f"<b>{escape(plan.title)}</b>",
        _("Period: {start} – {end}").format(start=_shown(plan.start), end=_shown(plan.end)),
        *([ended] if ended else []),
        *([_("🗄 From the archive: this is not the current plan.")] if at is not None else []),
        "",
        _("Choose a strategic direction:"),
    ]
    nodes = (plan, *(other for _index, other in others))
    options = (at, *(index for index, _other in others))
    return "\n".join(lines), _plan_keyboards.get(
        nodes, options, lambda: _plan_keyboard(plan, at, others)
    )


def _plan_keyboard(
    plan: Plan, at: int | None, others: Sequence[tuple[int, Plan]]
) -> InlineKeyboardMarkup:
    buttons = [
        _button(f"{d.code}. {d.title}", PlanCb(level=PlanLevel.direction, code=d.code, plan=at))
        for d in plan.directions
    ]
    buttons += [
        _button(
            _("🗄 Plan {years} (archive)").format(years=years(other)),
            PlanCb(level=PlanLevel.directions, plan=index),
        )
        for index, other in others
    ]
    footer = [back_to_menu()]
    if at is not None:
        footer.insert(0, _button(_("⬅ Current plan"), PlanCb(level=PlanLevel.directions)))
    return _keyboard(buttons, *footer)


def direction_view(
    direction: Direction, at: int | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n".join(
        [
            _("<b>Strategic direction {code}</b>").format(code=escape(direction.code)),
            escape(direction.title),
            "",
            _("Choose a task:"),
        ]
    )
    return text, _direction_keyboards.get(
        (direction,), (at,), lambda: _direction_keyboard(direction, at)
    )


def _direction_keyboard(direction: Direction, at: int | None) -> InlineKeyboardMarkup:
    buttons = [
        _button(f"{t.code}. {t.title}", PlanCb(level=PlanLevel.task, code=t.code, plan=at))
        for t in direction.tasks
    ]
    return _keyboard(buttons, back_to_plan(at))


def task_view(task: Task, at: int | None = None) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        _("<b>Task {code}</b>").format(code=escape(task.code)),
        escape(task.title),
        "",
        _("Measures:"),
    ]
    lines += [f"<b>{m.code}</b> {escape(m.title)}" for m in task.measures]
    return "\n".join(lines), _task_keyboards.get((task,), (at,), lambda: _task_keyboard(task, at))


def _task_keyboard(task: Task, at: int | None) -> InlineKeyboardMarkup:
    buttons = [measure_button(m, at) for m in task.measures]
    back = _button(
        _("⬅ Direction {code}").format(code=task.direction_code),
        PlanCb(level=PlanLevel.direction, code=task.direction_code, plan=at),
    )
    return _keyboard(buttons, back, back_to_plan(at))


def measure_button(measure: Measure, at: int | None = None) -> InlineKeyboardButton:
    return _buttons.get(
        (measure,),
        (at,),
        lambda: _button(
            f"{measure.code}. {measure.title}",
            PlanCb(level=PlanLevel.measure, code=measure.code, plan=at),
        ),
    )


def indicator_line(indicator: Indicator) -> str:
    description = escape(indicator.description)
    if indicator.kind == "milestone":
        return "• " + _("{description} — a one-off result").format(description=description)
    target = {
        "year": _("at least {target} a year"),
        "month": _("at least {target} every month"),
        "plan": _("at least {target} over the plan period"),
    }[indicator.period].format(target=f"<b>{indicator.target}</b>")
    line = f"• {description} — {target} ({escape(indicator.unit)})"
    minimum = indicator.min_participants
    if minimum is not None:
        line += "; " + _(
            "each with at least {cso} CSO and {council} council representatives"
        ).format(cso=minimum.cso, council=minimum.council)
    return line


def _glossary_names(entries: Iterable[GlossaryEntry]) -> str:
    return "; ".join(
        escape(e.full) if e.short == e.full else f"{escape(e.full)} ({escape(e.short)})"
        for e in entries
    )


def measure_card(measure: Measure, printed_note: bool = False) -> str:
    """The full card of a measure; every line self-contained HTML so long cards split cleanly."""
    lines = [_("<b>Measure {code}</b>").format(code=measure.code)]
    # The document's own number is said once per card: in the heading, or (when the card was
    # asked for by that number) as the fuller note below it.
    if measure.printed_code != measure.code and not printed_note:
        lines[0] += " " + _("(numbered {printed} in the document)").format(
            printed=measure.printed_code
        )
    if printed_note and measure.printed_code != measure.code:
        lines.append(
            _(
                "ℹ In the document this measure is numbered {printed}; here its code is {code}."
            ).format(printed=measure.printed_code, code=measure.code)
        )
    lines += [
        f"<b>{escape(measure.title)}</b>",
        "",
        _("<b>Responsible:</b> {names}").format(names=_glossary_names(measure.responsible)),
        _("<b>Term:</b> {term}").format(term=escape(measure.term)),
        _("<b>Funding:</b> {names}").format(names=_glossary_names(measure.funding)),
        "",
        _("<b>Expected results</b> (as in the plan):"),
        *(
            f"<i>{escape(line)}</i>"
            for line in measure.expected_results.splitlines()
            if line.strip()
        ),
        "",
        _("<b>Indicators:</b>"),
        *(indicator_line(i) for i in measure.indicators),
    ]
    return "\n".join(lines)


def site_button(url: str, site: SiteLinks, private: bool) -> InlineKeyboardButton:
    """A link to a page of the public website; opened inside Telegram as a Web App where
    Telegram allows one (an https page, in a private chat), else in the browser."""
    text = _("🌐 On the website")
    if site.web_app and private:
        return InlineKeyboardButton(text=text, web_app=WebAppInfo(url=url))
    return InlineKeyboardButton(text=text, url=url)


def measure_view(
    plan: Plan,
    measure: Measure,
    printed_note: bool = False,
    site: SiteLinks | None = None,
    private: bool = True,
    at: int | None = None,
    others: Sequence[tuple[int, Plan]] = (),
    today: date | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """A measure's card in `plan` (`at` its index, None for the current plan), with buttons to
    the same measure in the `others` plans that have it."""
    text = measure_card(measure, printed_note)
    if len(others) or at is not None:
        # Several plans are loaded: say which one this card is of.
        ended = period_line(plan, today) if today is not None else None
        heading = _("Plan {years}").format(years=years(plan))
        text = "\n".join([f"<i>{heading}</i>", *([ended] if ended else []), text])
    nodes = (plan, measure, *(other for _index, other in others))
    options = (at, site, private, *(index for index, _other in others))
    return text, _measure_keyboards.get(
        nodes, options, lambda: _measure_keyboard(plan, measure, site, private, at, others)
    )


def _measure_keyboard(
    plan: Plan,
    measure: Measure,
    site: SiteLinks | None,
    private: bool,
    at: int | None,
    others: Sequence[tuple[int, Plan]],
) -> InlineKeyboardMarkup:
    task = plan.task(measure.task_code)
    back = _button(
        _("⬅ Task {code}").format(code=measure.task_code),
        PlanCb(level=PlanLevel.task, code=measure.task_code, plan=at),
    )
    assert task is not None
    url = site.measure(plan.id, measure.code) if site is not None else None
    links = [site_button(url, site, private)] if url is not None and site is not None else []
    links += [
        _button(
            _("🗄 {code} in the plan {years}").format(code=measure.code, years=years(other)),
            PlanCb(level=PlanLevel.measure, code=measure.code, plan=index),
        )
        for index, other in others
        if other.measure(measure.code) is not None
    ]
    return _keyboard(links, back, back_to_plan(at))


def measures_keyboard(
    measures: Iterable[Measure], *footer: InlineKeyboardButton, at: int | None = None
) -> InlineKeyboardMarkup:
    return _keyboard((measure_button(m, at) for m in measures), *footer)


def measure_list(measures: Iterable[Measure]) -> list[str]:
    return [f"<b>{m.code}</b> {escape(m.title)}" for m in measures]


def glossary_entries(plan: Plan, kind: GlossaryKind) -> tuple[GlossaryEntry, ...]:
    return plan.bodies if kind is GlossaryKind.body else plan.funding_sources


def measures_of(plan: Plan, kind: GlossaryKind, entry_id: str) -> tuple[Measure, ...]:
    if kind is GlossaryKind.body:
        return plan.measures_of_body(entry_id)
    return plan.measures_funded_by(entry_id)


def glossary_view(plan: Plan, kind: GlossaryKind) -> tuple[str, InlineKeyboardMarkup]:
    title = (
        _("Who is responsible for what? Choose a body:")
        if kind is GlossaryKind.body
        else _("Measures by funding source. Choose a source:")
    )
    return title, _glossary_keyboards.get((plan,), (kind,), lambda: _glossary_keyboard(plan, kind))


def _glossary_keyboard(plan: Plan, kind: GlossaryKind) -> InlineKeyboardMarkup:
    buttons = [
        _button(f"{e.short} ({n})", GlossaryCb(kind=kind, id=e.id))
        for e in glossary_entries(plan, kind)
        if (n := len(measures_of(plan, kind, e.id)))
    ]
    return _keyboard(buttons, back_to_menu())


def glossary_entry_view(
    plan: Plan, kind: GlossaryKind, entry: GlossaryEntry
) -> tuple[str, InlineKeyboardMarkup]:
    measures = measures_of(plan, kind, entry.id)
    n = len(measures)
    heading = (
        ngettext(
            "<b>{name}</b> is responsible for {n} measure:",
            "<b>{name}</b> is responsible for {n} measures:",
            n,
        )
        if kind is GlossaryKind.body
        else ngettext("<b>{name}</b> funds {n} measure:", "<b>{name}</b> funds {n} measures:", n)
    ).format(name=escape(entry.full), n=n)
    keyboard = _entry_keyboards.get(
        (plan, entry),
        (kind,),
        lambda: measures_keyboard(
            measures, _button(_("⬅ Back"), GlossaryCb(kind=kind)), back_to_menu()
        ),
    )
    return "\n".join([heading, "", *measure_list(measures)]), keyboard


def other_plans(plans: Plans, shown: Plan) -> list[tuple[int, Plan]]:
    """The loaded plans besides the one shown, each with its index for a button."""
    return [(index, other) for index, other in enumerate(plans.all) if other is not shown]
