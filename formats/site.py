"""Addresses of the public website's pages: one scheme for the site and the bot's links."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlparse


def plan_path(plan_id: str, year: int | None = None) -> str:
    path = f"/plan/{quote(plan_id, safe='')}"
    return path if year is None else f"{path}?year={year}"


def measure_path(plan_id: str, code: str, year: int | None = None) -> str:
    path = f"{plan_path(plan_id)}/measure/{quote(code, safe='')}"
    return path if year is None else f"{path}?year={year}"


def event_ics_path(event_id: int) -> str:
    return f"/events/{event_id}.ics"


@dataclass(frozen=True, slots=True)
class SiteLinks:
    """The site's public base URL (WEB_PUBLIC_URL), or None when the site is not published."""

    base_url: str | None = None

    @property
    def published(self) -> bool:
        return self.base_url is not None

    @property
    def web_app(self) -> bool:
        """Telegram opens only https pages as a Web App; plain http gets an ordinary link."""
        return self.base_url is not None and urlparse(self.base_url).scheme == "https"

    def url(self, path: str) -> str | None:
        if self.base_url is None:
            return None
        return self.base_url.rstrip("/") + path

    def plan(self, plan_id: str, year: int | None = None) -> str | None:
        return self.url(plan_path(plan_id, year))

    def measure(self, plan_id: str, code: str, year: int | None = None) -> str | None:
        return self.url(measure_path(plan_id, code, year))
