"""Outages for the fake Bot API: Telegram unreachable, or answering 5xx, for a while.

A subclass rather than a change to fakes/bot_api.py: the faults hit sendMessage only, as the
fake's own do, so a test can watch the coordinators' board (edited in place) meanwhile.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from fakes.bot_api import FakeBotAPI, UploadedFile


class OutageBotAPI(FakeBotAPI):
    """`unreachable`: the connection drops (the client sees a network error); `server_errors`:
    502 Bad Gateway; `hang_chats`: a send to those chats never answers until released."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.unreachable = False
        self.server_errors = False
        self.hang_chats: set[int] = set()
        self.refused = 0  # sends that met the outage
        self.hung: list[int] = []  # chats whose send was held
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
        return await super()._handle(request)

    async def _send_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = int(params.get("chat_id") or 0)
        if chat_id in self.hang_chats:
            self.hung.append(chat_id)
            self._calls_changed.notify()
            await self.released.wait()
        return await super()._send_message(params, files)
