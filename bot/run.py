"""Run modes: long polling (the default) and webhook, both stopping cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from urllib.parse import urlparse

from aiogram import Bot
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.app import App
from web import Site, add_site_routes

log = logging.getLogger(__name__)


async def run_polling(app: App, bot: Bot) -> None:
    # getUpdates does not work while a webhook is set.
    await bot.delete_webhook(drop_pending_updates=False)
    dp = app.dispatcher
    await dp.start_polling(
        bot,
        handle_signals=True,
        close_bot_session=True,
        allowed_updates=dp.resolve_used_update_types(),
    )


def webhook_path(url: str) -> str:
    return urlparse(url).path or "/webhook"


def build_webhook_app(app: App, bot: Bot) -> web.Application:
    """The aiohttp application Telegram calls; requests without the secret header get 401."""
    settings = app.settings
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    web_app = web.Application()
    SimpleRequestHandler(
        dispatcher=app.dispatcher, bot=bot, secret_token=str(settings.webhook_secret)
    ).register(web_app, path=webhook_path(settings.webhook_url))
    setup_application(web_app, app.dispatcher, bot=bot)
    # The public progress website, beside the webhook on the same server.
    add_site_routes(web_app, Site([app.plan], app.db, app.dispatcher["clock"]))

    async def register_webhook(_: web.Application) -> None:
        await bot.set_webhook(
            settings.webhook_url or "",
            secret_token=str(settings.webhook_secret),
            allowed_updates=app.dispatcher.resolve_used_update_types(),
        )

    web_app.on_startup.append(register_webhook)
    return web_app


async def run_webhook(app: App, bot: Bot) -> None:
    settings = app.settings
    runner = web.AppRunner(build_webhook_app(app, bot))
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    log.info("webhook server listening on %s:%s", settings.webhook_host, settings.webhook_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        await runner.cleanup()
        await bot.session.close()
