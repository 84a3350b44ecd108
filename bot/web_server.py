"""`cso-bot web`: serve the public progress website until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from bot.config import Settings
from db import Database
from plan.clock import Clock
from plan.plans import load_plans
from web import Site, build_site_app

log = logging.getLogger(__name__)


async def serve_site(settings: Settings) -> None:
    plans = load_plans(settings.plan_files)  # every loaded plan, earlier ones as an archive
    db = await Database.open(settings.database)
    runner = web.AppRunner(build_site_app(Site(plans.all, db, Clock(settings.timezone))))
    try:
        await runner.setup()
        await web.TCPSite(runner, settings.web_host, settings.web_port).start()
        # Printed, not only logged: the browser test waits for this line to know the port is open.
        print(f"serving http://{settings.web_host}:{settings.web_port}/", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        log.info("site shutting down")
        await runner.cleanup()
        await db.close()
