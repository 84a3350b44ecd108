"""Refusals in words: one table for every form's InputError reasons, each worded once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _

from formats.dates import long_date, periods
from plan.validation import InputError


def _words() -> dict[str, str]:
    return {
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
        "date_outside_plans": _(
            "No loaded plan runs on this date. Reports are open for the plan periods {periods}."
        ),
        "not_a_number": _("Please send a whole number in digits, e.g. 1 or 25."),
        "too_small": _("The number must be at least {minimum}."),
        "too_large": _("That is more than {maximum}: please check the number."),
        "empty": _("This cannot be empty."),
        "too_long": _("That is too long: {characters}, at most {limit}."),
        "not_a_link": _(
            "That is not a link. Send a link starting with https://, a photo or a document."
        ),
        "when_format": _(
            "I could not read the date and time. Please write them as ДД.ММ.РРРР ГГ:ХХ, e.g. "
            "15.03.2027 14:00."
        ),
        "when_past": _("That moment has passed: an event is announced for the future."),
        "end_before_start": _("The end must be after the start."),
        "unknown_measure": _("There is no measure {code} in the plan. Send codes like 2.1.3."),
        "ambiguous_measure": _(
            "In the document, number {code} is printed for {n} measures; send the code of one "
            "of them (see /measure {code})."
        ),
        "until_past": _("That date has passed: a project listed here must still be active."),
    }


def refusal(error: InputError, own: Callable[[], Mapping[str, str]] | None = None) -> str:
    """The refusal for `error`: a form's `own` wording first, else the common one."""
    words = {**_words(), **(own() if own else {})}
    text = words.get(error.reason, _("That did not work. Please try again."))
    locale = get_i18n().current_locale
    values = {k: _shown(v, locale) for k, v in error.details.items()}
    if isinstance(length := error.details.get("length"), int):
        values["characters"] = characters(length)
    return text.format(**values)


def characters(n: int) -> str:
    """«254 символи», «5000 символів»: a length in characters, agreeing with its number."""
    return ngettext("{n} character", "{n} characters", n).format(n=n)


def _shown(value: Any, locale: str) -> Any:
    """A detail as the reader reads it: a date, or periods of dates, in words."""
    if isinstance(value, date):
        return long_date(value, locale)
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):
        return periods(value, locale)
    return value
