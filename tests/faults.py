"""Outages for the fake Bot API: Telegram unreachable, or answering 5xx, for a while.

A subclass rather than a change to fakes/bot_api.py: the faults hit sendMessage only, as the
fake's own do, so a test can watch the coordinators' board (edited in place) meanwhile.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from fakes.bot_api import FakeBotAPI


class OutageBotAPI(FakeBotAPI):
    """`unreachable`: the connection drops (the client sees a network error); `server_errors`:
    502 Bad Gateway; `hang_chats`: a send to those chats never answers until released."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.unreachable = False
        self.server_errors = False
        self.hang_chats: set[int] = set()
        self.refused = 0  # sends that met the outage
        self.released = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["method"].lower() == "sendmessage":
            if self.unreachable:
                self.refused += 1
                assert request.transport is not None
                request.transport.abort()
                return web.Response(status=500)  # never reaches the client: it is gone
            if self.server_errors:
                self.refused += 1
                return web.json_response(
                    {"ok": False, "error_code": 502, "description": "Bad Gateway"}, status=502
                )
            if self.hang_chats:
                params, _ = await self._read_params(request)
                if int(params.get("chat_id", 0)) in self.hang_chats:
                    await self.released.wait()
        return await super()._handle(request)
