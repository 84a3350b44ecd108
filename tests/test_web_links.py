"""The bot's measure cards link to the public website when WEB_PUBLIC_URL is set: a Web App
button for an https address in a private chat, an ordinary link otherwise, nothing when unset."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiogram.types import InlineKeyboardMarkup

from bot.app import App, build_app
from bot.config import ConfigError, Settings, load_settings
from formats.site import SiteLinks, measure_path
from handlers.callbacks import PlanCb, PlanLevel
from plan.clock import Clock
from tests.conftest import Chat

PLAN_ID = "vinnytsia-cso-partnership-2023-2024"


async def _card_buttons(settings: Settings, clock: Clock, *send: str) -> list[dict[str, Any]]:
    app: App = await build_app(settings, clock)
    try:
        chat = Chat(app, 100)
        sent = await chat.send(send[0])
        if len(send) > 1:
            sent = await chat.press(chat.keyboard()[0], send[1])
    finally:
        await app.close()
    markups = [getattr(r, "reply_markup", None) for r in sent]
    markup = next(m for m in markups if isinstance(m, InlineKeyboardMarkup))
    return [b.model_dump(exclude_none=True) for row in markup.inline_keyboard for b in row]


@pytest.mark.parametrize(
    ("public_url", "expected"),
    [
        ("https://cso.example.org", "web_app"),
        ("http://cso.example.org", "url"),
        (None, None),
    ],
)
async def test_measure_card_links_to_its_page(
    settings: Settings, clock: Clock, public_url: str | None, expected: str | None
) -> None:
    settings = replace(settings, web_public_url=public_url)
    for steps in (
        ("/measure 1.1.1",),
        ("/plan", PlanCb(level=PlanLevel.measure, code="1.1.1").pack()),
    ):
        buttons = await _card_buttons(settings, clock, *steps)
        links = [b for b in buttons if "url" in b or "web_app" in b]
        if expected is None:
            assert links == []
            continue
        assert len(links) == 1, buttons
        target = links[0]["web_app"]["url"] if expected == "web_app" else links[0]["url"]
        assert target == f"{public_url}{measure_path(PLAN_ID, '1.1.1')}"
        assert "сайті" in links[0]["text"]


@pytest.mark.parametrize(
    ("public_url", "expected"),
    [("https://cso.example.org", "web_app"), ("http://cso.example.org", "url"), (None, None)],
)
async def test_progress_links_to_the_plan_page_of_its_year(
    settings: Settings, clock: Clock, public_url: str | None, expected: str | None
) -> None:
    settings = replace(settings, web_public_url=public_url)
    buttons = await _card_buttons(settings, clock, "/progress")
    links = [b for b in buttons if "url" in b or "web_app" in b]
    if expected is None:
        assert links == []
        return
    (link,) = links
    target = link["web_app"]["url"] if expected == "web_app" else link["url"]
    assert target.startswith(f"{public_url}/plan/{PLAN_ID}?year=")


def test_web_settings(tmp_path: Path) -> None:
    settings = load_settings({}, dotenv=None)
    assert (settings.web_host, settings.web_port, settings.web_public_url) == (
        "127.0.0.1",
        8081,
        None,
    )
    settings = load_settings(
        {"WEB_HOST": "0.0.0.0", "WEB_PORT": "9000", "WEB_PUBLIC_URL": "https://x.org/"},
        dotenv=None,
    )
    assert (settings.web_host, settings.web_port, settings.web_public_url) == (
        "0.0.0.0",
        9000,
        "https://x.org",
    )
    with pytest.raises(ConfigError, match="WEB_PORT"):
        load_settings({"WEB_PORT": "http"}, dotenv=None)
    with pytest.raises(ConfigError, match="WEB_PUBLIC_URL"):
        load_settings({"WEB_PUBLIC_URL": "cso.example.org"}, dotenv=None)
    assert (
        SiteLinks("https://x.org").plan(PLAN_ID, 2024) == f"https://x.org/plan/{PLAN_ID}?year=2024"
    )
    assert not SiteLinks(None).published
