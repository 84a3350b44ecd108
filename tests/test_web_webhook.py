"""In webhook mode the webhook's own server serves the public website beside the webhook."""

from __future__ import annotations

from dataclasses import replace

import aiohttp
from aiohttp import web

from bot.app import build_app, build_bot
from bot.config import Secret, Settings
from bot.run import build_webhook_app
from fakes.servers import free_port
from fakes.session import LocalSession
from formats.site import measure_path, plan_path

PLAN_ID = "vinnytsia-cso-partnership-2023-2024"


async def test_the_webhook_server_serves_the_site(settings: Settings) -> None:
    port = free_port()
    settings = replace(
        settings,
        webhook_url="https://bot.example.org/tg/webhook",
        webhook_secret=Secret("s3cret-X"),
    )
    app = await build_app(settings)
    bot = build_bot(settings, session=LocalSession())
    runner = web.AppRunner(build_webhook_app(app, bot))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for path in ("/", plan_path(PLAN_ID, 2024), measure_path(PLAN_ID, "2.1.3", 2023)):
                async with http.get(base + path) as resp:
                    assert resp.status == 200, path
                    assert resp.content_type == "text/html"
                    html = await resp.text()
                    assert '<html lang="uk">' in html and "<script" not in html
            async with http.get(base + "/static/style.css") as resp:
                assert resp.status == 200 and resp.content_type == "text/css"
            async with http.post(base + "/tg/webhook", json={"update_id": 1}) as resp:
                assert resp.status == 401  # the webhook is still guarded by its secret
    finally:
        await runner.cleanup()
        await app.close()
