"""How the plan looks in a chat: texts and keyboards for the plan tree and the glossaries."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.i18n import gettext as _

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
from plan import Direction, GlossaryEntry, Indicator, Measure, Plan, Task


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
    return _button(_("☰ Menu"), MenuCb(action=MenuAction.main))


def back_to_plan() -> InlineKeyboardButton:
    return _button(_("⬆ Plan"), PlanCb(level=PlanLevel.directions))


def plan_view(plan: Plan) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n".join(
        [
            f"<b>{escape(plan.title)}</b>",
            _("Period: {start} – {end}").format(
                start=plan.start.strftime("%d.%m.%Y"), end=plan.end.strftime("%d.%m.%Y")
            ),
            "",
            _("Choose a strategic direction:"),
        ]
    )
    buttons = [
        _button(f"{d.code}. {d.title}", PlanCb(level=PlanLevel.direction, code=d.code))
        for d in plan.directions
    ]
    return text, _keyboard(buttons, back_to_menu())


def direction_view(direction: Direction) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n".join(
        [
            _("<b>Strategic direction {code}</b>").format(code=escape(direction.code)),
            escape(direction.title),
            "",
            _("Choose a task:"),
        ]
    )
    buttons = [
        _button(f"{t.code}. {t.title}", PlanCb(level=PlanLevel.task, code=t.code))
        for t in direction.tasks
    ]
    return text, _keyboard(buttons, back_to_plan())


def task_view(task: Task) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        _("<b>Task {code}</b>").format(code=escape(task.code)),
        escape(task.title),
        "",
        _("Measures:"),
    ]
    lines += [f"<b>{m.code}</b> {escape(m.title)}" for m in task.measures]
    buttons = [measure_button(m) for m in task.measures]
    back = _button(
        _("⬅ Direction {code}").format(code=task.direction_code),
        PlanCb(level=PlanLevel.direction, code=task.direction_code),
    )
    return "\n".join(lines), _keyboard(buttons, back, back_to_plan())


def measure_button(measure: Measure) -> InlineKeyboardButton:
    return _button(
        f"{measure.code}. {measure.title}", PlanCb(level=PlanLevel.measure, code=measure.code)
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
    if measure.printed_code != measure.code:
        lines[0] += " " + _("(numbered {printed} in the document)").format(
            printed=measure.printed_code
        )
    if printed_note:
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
) -> tuple[str, InlineKeyboardMarkup]:
    task = plan.task(measure.task_code)
    back = _button(
        _("⬅ Task {code}").format(code=measure.task_code),
        PlanCb(level=PlanLevel.task, code=measure.task_code),
    )
    assert task is not None
    url = site.measure(plan.id, measure.code) if site is not None else None
    links = [site_button(url, site, private)] if url is not None and site is not None else []
    return measure_card(measure, printed_note), _keyboard(links, back, back_to_plan())


def measures_keyboard(
    measures: Iterable[Measure], *footer: InlineKeyboardButton
) -> InlineKeyboardMarkup:
    return _keyboard((measure_button(m) for m in measures), *footer)


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
    buttons = [
        _button(f"{e.short} ({n})", GlossaryCb(kind=kind, id=e.id))
        for e in glossary_entries(plan, kind)
        if (n := len(measures_of(plan, kind, e.id)))
    ]
    return title, _keyboard(buttons, back_to_menu())


def glossary_entry_view(
    plan: Plan, kind: GlossaryKind, entry: GlossaryEntry
) -> tuple[str, InlineKeyboardMarkup]:
    measures = measures_of(plan, kind, entry.id)
    heading = (
        _("<b>{name}</b> is responsible for {n} measures:")
        if kind is GlossaryKind.body
        else _("<b>{name}</b> funds {n} measures:")
    ).format(name=escape(entry.full), n=len(measures))
    back = _button(_("⬅ Back"), GlossaryCb(kind=kind))
    return "\n".join([heading, "", *measure_list(measures)]), measures_keyboard(
        measures, back, back_to_menu()
    )
