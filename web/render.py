"""Jinja2 templates and their filters: Ukrainian dates (formats.dates), plurals, SVG bars."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from babel import Locale
from markupsafe import Markup

from formats.dates import DEFAULT_LOCALE, event_time, long_date, month_year

if TYPE_CHECKING:
    # Imported when the first page is rendered: `cso-bot run` imports the site's routes
    # whether or not it serves pages, and jinja2 is ~0.1 s of its start-up.
    from jinja2 import Environment


LOCALE = DEFAULT_LOCALE  # the website is Ukrainian
COLOURS = {
    "achieved": "#1b5e20",
    "on_track": "#0d47a1",
    "behind": "#b23c00",
    "not_started": "#616161",
}
_TAG = re.compile(r"<[^>]+>")


def plural(n: int, one: str, few: str, many: str) -> str:
    """«1 захід», «3 заходи», «5 заходів»: Ukrainian agreement by CLDR's plural rules."""
    form = Locale.parse(LOCALE).plural_form(n)
    word = {"one": one, "few": few}.get(form, many)
    return f"{n}\u00a0{word}"


def percent(share: float) -> str:
    return f"{round(share * 100)}%"


def bar(share: float, status: str, label: str = "") -> Markup:
    """A progress bar as inline SVG: readable without scripts, scales to any width."""
    filled = max(0.0, min(share, 1.0)) * 100
    colour = COLOURS.get(status, COLOURS["not_started"])
    title = html.escape(label or percent(share))
    # Safe: every interpolated value is a number, a fixed colour or escaped above.
    return Markup(  # noqa: S704
        '<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" '
        f'aria-label="{title}"><title>{title}</title>'
        '<rect width="100" height="10" rx="2" fill="#e6e6e6"/>'
        f'<rect width="{filled:.1f}" height="10" rx="2" fill="{colour}"/></svg>'
    )


def plain_text(telegram_html: str) -> str:
    """A newsletter part without its Telegram markup; the template escapes what is left."""
    return html.unescape(_TAG.sub("", telegram_html))


def safe_link(url: str | None) -> str | None:
    """Only web links become links: a javascript: or data: URL is never rendered clickable."""
    if url and re.match(r"^https?://", url, flags=re.IGNORECASE):
        return url
    return None


@lru_cache(maxsize=1)
def environment() -> Environment:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("web", "templates"),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        month_year=month_year,
        long_date=long_date,
        event_time=event_time,
        percent=percent,
        plain_text=plain_text,
        safe_link=safe_link,
    )
    env.globals.update(bar=bar, plural=plural)
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
