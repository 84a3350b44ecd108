"""The bot's HTTP session to the Bot API: aiogram's, with JSON bodies and its answer types kept.

Two costs of aiogram 3.31's `AiohttpSession`, measured under `make load` (py-spy):
- `check_response` parametrizes `Response[method.__returning__]` on every request. pydantic
  keeps parametrized generics in a weak-valued cache, so the class is collected with the
  garbage and rebuilt: a whole pydantic model (~25 ms on a busy machine for Response[Message]),
  ~9 % of the event loop's time. Here each answer type is parametrized once and held.
- Every request is form data (`FormData` with a multipart writer and a random boundary made
  whether or not a file goes with it). Requests without a file go as one JSON body instead
  (the Bot API accepts both); a request with a file is still multipart, as aiogram sends it.
The values sent are aiogram's own `prepare_value` results, so what Telegram receives is the same.
"""

from __future__ import annotations

from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import ClientError, ClientTimeout

JSON_HEADERS = {"Content-Type": "application/json"}


class BotAPISession(AiohttpSession):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # One per answer type for the life of the session (there are a few dozen at most).
        self._response_types: dict[Any, type[Response[Any]]] = {}

    def response_type(self, returning: Any) -> type[Response[Any]]:
        found = self._response_types.get(returning)
        if found is None:
            found = self._response_types[returning] = Response[returning]
        return found

    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        # aiogram's check, with the answer type from the held ones: it looks the type up by
        # `Response[...]`, which then finds it in pydantic's cache.
        self.response_type(method.__returning__)
        return super().check_response(bot, method, status_code, content)

    def json_body(self, bot: Bot, method: TelegramMethod[TelegramType]) -> str | None:
        """The request as JSON, or None when it carries a file (multipart then)."""
        files: dict[str, Any] = {}
        body: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            # As build_form_data: a field without a value is left out.
            if prepared is None or prepared == "":
                continue
            body[key] = prepared
        if files:
            return None
        return cast(str, self.json_dumps(body))

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        body = self.json_body(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=body,
                headers=JSON_HEADERS,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        response = self.check_response(
            bot=bot, method=method, status_code=resp.status, content=raw_result
        )
        return cast(TelegramType, response.result)
