"""GET /healthz on the webhook server: 200 while the database (and Redis, when configured)
answer, 503 when one does not, so the proxy sends updates to the workers that can serve."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from bot.app import App, build_app, build_bot
from bot.config import Secret, Settings
from bot.run import build_webhook_app
from fakes.servers import free_port
from fakes.session import LocalSession


@asynccontextmanager
async def serving(app: App, settings: Settings) -> AsyncIterator[str]:
    port = free_port()
    runner = web.AppRunner(build_webhook_app(app, build_bot(settings, session=LocalSession())))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/healthz"
    finally:
        await runner.cleanup()


async def _get(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


def _webhook(settings: Settings) -> Settings:
    return replace(
        settings, webhook_url="https://bot.example.org/webhook", webhook_secret=Secret("s3cret")
    )


async def test_healthy_with_the_database_and_redis(settings: Settings, redis_url: str) -> None:
    settings = replace(_webhook(settings), redis_url=Secret(redis_url))
    app = await build_app(settings)
    try:
        async with serving(app, settings) as url:
            assert await _get(url) == (200, {"ok": True, "database": "ok", "redis": "ok"})
    finally:
        await app.close()


async def test_unhealthy_when_redis_does_not_answer(settings: Settings) -> None:
    settings = _webhook(settings)
    app = await build_app(settings)
    # A Redis nobody listens on: the worker cannot keep dialogs or the budget, so 503.
    app.redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        async with serving(app, settings) as url:
            status, body = await _get(url)
        assert status == 503 and body["database"] == "ok" and body["redis"] != "ok", body
    finally:
        await app.redis.aclose()
        await app.close()


async def test_unhealthy_when_the_database_is_closed(settings: Settings) -> None:
    settings = _webhook(settings)
    app = await build_app(settings)
    try:
        async with serving(app, settings) as url:
            assert (await _get(url))[0] == 200
            await app.db.close()
            status, body = await _get(url)
        assert status == 503 and body["database"] != "ok", body
    finally:
        await app.dispatcher.storage.close()
