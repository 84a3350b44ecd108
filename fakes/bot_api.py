"""A local fake Telegram Bot API server (aiohttp.web) for end-to-end and delivery tests."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import mimetypes
import re
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from formats.telegram_text import HTMLParseError, parse_html, trim_entities, utf16_len

__all__ = ["Call", "FakeBotAPI", "HTMLParseError", "UploadedFile", "parse_html"]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
REPLY_METHODS = ("sendMessage", "editMessageText")

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)

# aiogram sends str values verbatim but json.dumps() everything else, so "123" may be the int
# 123 or the text "123"; these parameters are always strings and must never be decoded.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "language_code",
        "description",
        "short_description",
        "name",
        "title",
        "action",
        "secret_token",
        "ip_address",
        "business_connection_id",
        "message_effect_id",
        "emoji",
        "document",
        "photo",
        "thumbnail",
        "query",
        "custom_emoji_id",
    }
)


# ---------------------------------------------------------------------------------------------
# Recorded requests
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    field: str
    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Call:
    """One request the bot made; appended to FakeBotAPI.calls once it has been answered."""

    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when the request arrived
    index: int = -1  # position in FakeBotAPI.calls
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        return self.response.get("description")


class _APIError(Exception):
    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def _bad_request(what: str) -> _APIError:
    return _APIError(400, f"Bad Request: {what}")


class _Signal:
    """Wakes every waiter on notify(); unlike Condition, needs no lock around the state."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        """Return on the next notify(), or after `seconds` at the latest."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max(seconds, 0.0))


Handler = Callable[[dict[str, Any], dict[str, UploadedFile]], Awaitable[Any]]


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------


class FakeBotAPI:
    """Speaks enough of the Bot API for the bot to run against it, and records everything.

    Bound to the event loop it is started in; drive it (push_*, wait_*) from that loop.

    Fault injection applies to sendMessage, sendDocument and sendPhoto only:
    blocked_chats answer 403, unknown_chats 400 "chat not found"; rate_limit (accepted sends
    per sliding second, all chats together) also turns on Telegram's one message per second
    per chat (after a burst of chat_burst), both answered 429 with parameters.retry_after;
    flaky_every=k answers every k-th send request 502 "Bad Gateway", whatever it carries.

    flood(retry_after) answers the next send 429 whatever the rate. Outages apply to every
    method but getUpdates: fail_for(seconds) answers 5xx for a while,
    hang_for(seconds) holds each request that long before answering it, and go_offline() /
    go_online() stop and restart listening on the same port (connections refused meanwhile).
    """

    #: Reject a "&" that starts no character reference (Telegram keeps it literally).
    strict_html: bool = True

    def __init__(
        self,
        token: str = "123456:TEST",
        *,
        rate_limit: float | None = None,
        blocked_chats: Iterable[int] = (),
        unknown_chats: Iterable[int] = (),
        flaky_every: int | None = None,
        chat_burst: int = 1,
        first_update_id: int = 1,
    ) -> None:
        self.token = token
        self.rate_limit = rate_limit
        self.blocked_chats: set[int] = set(blocked_chats)
        self.unknown_chats: set[int] = set(unknown_chats)
        self.flaky_every = flaky_every
        self.chat_burst = chat_burst
        self._failing_until = 0.0
        self._failing_status = 502
        self._floods: list[int] = []  # retry_after of the next sends to be refused with 429
        self._hanging_until = 0.0
        self._hang_seconds = 0.0
        self._site: web.TCPSite | None = None
        self._address: tuple[str, int] = ("127.0.0.1", 0)
        prefix = token.split(":", 1)[0]
        self.bot_user: dict[str, Any] = {
            "id": int(prefix) if prefix.isdigit() else 123456,
            "is_bot": True,
            "first_name": "CSO Bot",
            "username": "cso_test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.url = ""

        self.calls: list[Call] = []
        self.messages: dict[int, list[dict[str, Any]]] = {}
        self.sent_count: Counter[int] = Counter()
        self.too_many_requests = 0
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.uploads: list[dict[str, Any]] = []
        self.pushed: list[dict[str, Any]] = []  # every update ever queued, confirmed or not
        self.offsets: list[int | None] = []  # the offset of every getUpdates, None if absent
        self.confirmed_update_id = 0  # highest update_id the bot confirmed via offset
        self.webhook_url = ""
        self.allowed_updates: list[str] | None = None

        self._updates: list[dict[str, Any]] = []  # queued and not yet confirmed
        self._update_ids = itertools.count(first_update_id)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._open_callbacks: set[str] = set()
        self._users: dict[int, dict[str, Any]] = {}
        self._send_requests = 0
        self._send_times: deque[float] = deque()
        self._chat_tokens: dict[int, tuple[float, float]] = {}  # chat: (tokens, at)
        self._poll_generation = 0
        self._updates_changed = _Signal()
        self._calls_changed = _Signal()
        self._offsets_changed = _Signal()
        self._closing = False
        self._runner: web.AppRunner | None = None

        handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "answerCallbackQuery": self._answer_callback_query,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
        }
        # Side-effect-free calls a bot may make at startup; answering 404 would crash it.
        for name in (
            "sendChatAction",
            "setMyDescription",
            "setMyShortDescription",
            "setMyName",
            "setChatMenuButton",
            "close",
            "logOut",
        ):
            handlers[name] = self._true
        self._handlers = {name.lower(): handler for name, handler in handlers.items()}
        # Telegram method names are case-insensitive; record them in their canonical spelling.
        self._canonical = {name.lower(): name for name in handlers}

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0 picks a free port); return the base URL for the bot."""
        # Telegram accepts uploads up to 50 MB; aiohttp's default body limit is 1 MiB.
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        # A short shutdown_timeout: cleanup() otherwise waits up to 60 s for open long polls.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner, self._site = runner, site
        self._closing = False
        bound_host, bound_port = runner.addresses[0][:2]
        self._address = (bound_host, bound_port)
        self.url = f"http://{bound_host}:{bound_port}"
        return self.url

    # -- faults --------------------------------------------------------------------------------

    def fail_for(self, seconds: float, status: int = 502) -> None:
        """Answer every request but getUpdates with `status` for `seconds` from now."""
        self._failing_until = time.monotonic() + seconds
        self._failing_status = status

    def flood(self, retry_after: int, sends: int = 1) -> None:
        """Refuse the next `sends` sends with 429 and this retry_after, whatever the rate."""
        self._floods.extend([retry_after] * sends)

    def hang_for(self, seconds: float, hang: float) -> None:
        """For `seconds` from now, hold each request but getUpdates `hang` seconds first."""
        self._hanging_until = time.monotonic() + seconds
        self._hang_seconds = hang

    async def go_offline(self) -> None:
        """Stop listening: new connections are refused until go_online()."""
        if self._site is not None:
            await self._site.stop()
            self._site = None

    async def go_online(self) -> None:
        assert self._runner is not None, "start() first"
        if self._site is None:
            self._site = web.TCPSite(self._runner, *self._address)
            await self._site.start()

    async def stop(self) -> None:
        self._closing = True
        self._updates_changed.notify()  # let pending long polls answer now
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner, self._site = None, None

    async def __aenter__(self) -> FakeBotAPI:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- driving the bot -----------------------------------------------------------------------

    def push_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        language_code: str = "uk",
        first_name: str = "Тест",
    ) -> int:
        """Queue an Update with a private Message from the user; return its update_id."""
        user = {
            "id": chat_id if user_id is None else user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }
        self._users[chat_id] = user
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "from": user,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        command = re.match(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w@])", text)
        if command:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}
            ]
        return self._push_update({"message": message})

    def push_callback(
        self, chat_id: int, data: str, *, message_id: int, user_id: int | None = None
    ) -> int:
        """Queue an Update with a callback_query pressed on the bot's message; return its id."""
        message = self.find_message(chat_id, message_id)
        if message is None:
            raise KeyError(f"the bot has no message {message_id} in chat {chat_id}")
        user = dict(self._users.get(chat_id) or self._default_user(chat_id))
        if user_id is not None:
            user["id"] = user_id
        query_id = f"cbq{next(self._callback_ids)}x{abs(chat_id)}"
        self._open_callbacks.add(query_id)
        return self._push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "message": copy.deepcopy(message),
                    "chat_instance": str(1_000_000_000 + abs(chat_id)),
                    "data": data,
                }
            }
        )

    def find_message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The bot's stored (live, mutable) message, or None."""
        for message in self.messages.get(chat_id, []):
            if message["message_id"] == message_id:
                return message
        return None

    # -- inspecting ----------------------------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(
        self,
        predicate: Callable[[Call], bool],
        # The API the tests were promised; the timeout bounds the whole wait, not one I/O call.
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        after: int = 0,
    ) -> Call:
        """The first call with index >= after matching predicate, waiting for it if needed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        index = after
        while True:
            while index < len(self.calls):
                call = self.calls[index]
                index += 1
                if predicate(call):
                    return call
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = ", ".join(
                    f"#{c.index} {c.method}({c.status})" for c in self.calls[after:][-10:]
                )
                raise TimeoutError(
                    f"no matching Bot API call within {timeout} s; since #{after}: "
                    f"{recent or 'none'}"
                )
            await self._calls_changed.wait(remaining)

    async def wait_confirmed(
        self,
        update_id: int,
        timeout: float = 10.0,  # noqa: ASYNC109 - see wait_for
    ) -> None:
        """Wait until a getUpdates offset confirms update_id.

        aiogram confirms an update with the poll after the one that delivered it, and that
        poll is recorded in calls only once answered, so waiting on calls would be late.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.confirmed_update_id < update_id:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"update {update_id} not confirmed within {timeout} s; "
                    f"offsets seen: {self.offsets[-10:]}"
                )
            await self._offsets_changed.wait(remaining)

    async def wait_polling(
        self,
        timeout: float = 60.0,  # noqa: ASYNC109 - see wait_for
    ) -> None:
        """Wait until the bot's first getUpdates arrives (calls has it only once answered)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.offsets:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no getUpdates within {timeout} s")
            await self._offsets_changed.wait(remaining)

    async def wait_for_reply(
        self,
        chat_id: int,
        after: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 - see wait_for
        *,
        methods: Iterable[str] = REPLY_METHODS,
    ) -> Call:
        """The next accepted sendMessage/editMessageText to chat_id with index >= after.

        429s and 5xx are skipped, as the bot is expected to retry them; any other refusal
        raises AssertionError, so a reply Telegram would have rejected cannot pass a test.
        """
        wanted = set(methods)

        def is_reply(call: Call) -> bool:
            return (
                call.method in wanted
                and call.params.get("chat_id") == chat_id
                and call.status != 429
                and call.status < 500
            )

        call = await self.wait_for(is_reply, timeout, after=after)
        if not call.ok:
            raise AssertionError(
                f"Telegram would reject the bot's {call.method} #{call.index} to chat "
                f"{chat_id}: {call.status} {call.description}"
            )
        return call

    # -- HTTP ----------------------------------------------------------------------------------

    async def _not_found(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _handle(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        raw_method = request.match_info["method"]
        method = self._canonical.get(raw_method.lower(), raw_method)
        params: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        try:
            params, files = await self._read_params(request)
            if request.match_info["token"] != self.token:
                raise _APIError(401, "Unauthorized")
            handler = self._handlers.get(method.lower())
            if handler is None:
                raise _APIError(404, "Not Found: method not found")
            if method != "getUpdates":
                await self._outage()
            result = await handler(params, files)
            status, body = 200, {"ok": True, "result": result}
        except _APIError as error:
            status = error.code
            body = {"ok": False, "error_code": error.code, "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
            if error.code == 429:
                self.too_many_requests += 1
        # Serialized once, now: the answer sent, and the recorded copy read back from it, so
        # later edits of stored messages do not rewrite recorded history (cheaper than a deep
        # copy plus a second serialization).
        text = json.dumps(body)
        call = Call(method, params, arrived, len(self.calls), status, json.loads(text), files)
        self.calls.append(call)
        self._calls_changed.notify()
        return web.Response(text=text, status=status, content_type="application/json")

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        params: dict[str, Any] = {k: self._decode(k, v) for k, v in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if not request.can_read_body:
            return params, files
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as error:
                raise _bad_request("can't parse JSON encoded request body") from error
            if isinstance(body, dict):
                params.update(body)  # already typed; nothing to decode
            return params, files
        if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(
                        key, value.filename, value.content_type, value.file.read()
                    )
                else:
                    params[key] = self._decode(key, value)
        return params, files

    @staticmethod
    def _decode(key: str, value: Any) -> Any:
        if not isinstance(value, str) or key in _STRING_PARAMS:
            return value
        try:
            return json.loads(value)
        except ValueError:
            return value  # e.g. chat_id="@channel"

    # -- helpers -------------------------------------------------------------------------------

    def _default_user(self, chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": "Тест", "language_code": "uk"}

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id < 0:
            return {"id": chat_id, "type": "supergroup", "title": "Test group"}
        user = self._users.get(chat_id) or self._default_user(chat_id)
        return {"id": chat_id, "type": "private", "first_name": user["first_name"]}

    def _next_message_id(self, chat_id: int) -> int:
        # Private chats number user's and bot's messages in one sequence.
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _push_update(self, payload: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        update = {"update_id": update_id, **payload}
        self._updates.append(update)
        self.pushed.append(update)
        self._updates_changed.notify()
        return update_id

    def _bot_message(self, chat_id: int, content: dict[str, Any]) -> dict[str, Any]:
        message = {
            "message_id": self._next_message_id(chat_id),
            "from": {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **content,
        }
        self.messages.setdefault(chat_id, []).append(message)
        self.sent_count[chat_id] += 1
        return copy.deepcopy(message)

    @staticmethod
    def _chat_id(params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            raise _bad_request("chat not found")  # "@username" chats do not exist here
        return chat_id

    def _format(
        self, params: dict[str, Any], key: str, limit: int, *, required: bool
    ) -> tuple[str, list[dict[str, Any]]]:
        """Visible text and entities of params[key], validated as Telegram would."""
        raw = params.get(key)
        raw = "" if raw is None else str(raw)
        parse_mode = params.get("parse_mode")
        explicit = params.get(f"{key}_entities" if key == "caption" else "entities")
        if explicit:
            # Telegram uses explicit entities and ignores parse_mode when both are given.
            text, entities = raw, [dict(e) for e in explicit]
        elif parse_mode is None or parse_mode == "":
            text, entities = raw, []
        elif str(parse_mode).lower() == "html":
            try:
                text, entities = parse_html(raw, strict=self.strict_html)
            except HTMLParseError as error:
                raise _bad_request(f"can't parse entities: {error}") from error
        elif str(parse_mode).lower() in ("markdown", "markdownv2"):
            text, entities = raw, []  # not validated: the bot under test uses HTML
        else:
            raise _bad_request("unsupported parse_mode")
        text, entities = trim_entities(text, entities)
        if required and not text:
            raise _bad_request("message text is empty")
        if len(text) > limit:  # tdlib counts code points of the trimmed text
            raise _bad_request(
                "message is too long" if key == "text" else "message caption is too long"
            )
        return text, entities

    @staticmethod
    def _inline_markup(params: dict[str, Any]) -> dict[str, Any] | None:
        """Validate reply_markup; return it if it is an inline keyboard (the only kind echoed)."""
        markup = params.get("reply_markup")
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            for key in ("keyboard", "remove_keyboard", "force_reply"):
                if key in markup:
                    return None
            raise _bad_request("can't parse reply keyboard markup JSON object")
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _bad_request(
                        "can't parse inline keyboard button: Text buttons "
                        "are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                size = len(str(data).encode())
                if data is not None and not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise _bad_request("BUTTON_DATA_INVALID")
                actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
                if not actions:
                    raise _bad_request(
                        "can't parse inline keyboard button: Text buttons "
                        "are unallowed in the inline keyboard"
                    )
        return markup

    async def _outage(self) -> None:
        if time.monotonic() < self._hanging_until:
            await asyncio.sleep(self._hang_seconds)
        if time.monotonic() < self._failing_until:
            status = self._failing_status
            raise _APIError(status, "Bad Gateway" if status == 502 else "Internal Server Error")

    def _check_send(self, params: dict[str, Any]) -> int:
        """Fault injection and chat checks shared by the send methods."""
        self._send_requests += 1
        if self.flaky_every and self._send_requests % self.flaky_every == 0:
            raise _APIError(502, "Bad Gateway")
        chat_id = self._chat_id(params)
        if chat_id in self.unknown_chats:
            raise _bad_request("chat not found")
        if chat_id in self.blocked_chats:
            raise _APIError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _check_rate(self, chat_id: int) -> None:
        """Flood control; runs after validation so only sends Telegram would deliver count."""
        if self._floods:
            retry_after = self._floods.pop(0)
            raise _APIError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        if self.rate_limit is None:
            return
        now = time.monotonic()
        # A rate below 1/s becomes one message per 1/rate seconds.
        window = max(1.0, 1.0 / self.rate_limit)
        capacity = max(1, round(self.rate_limit * window))
        while self._send_times and self._send_times[0] <= now - window:
            self._send_times.popleft()
        wait = 0.0
        if len(self._send_times) >= capacity:
            wait = self._send_times[0] + window - now
        # About one message a second to one chat, after a short burst: a bucket of chat_burst
        # tokens refilled at one a second.
        tokens, at = self._chat_tokens.get(chat_id, (float(self.chat_burst), now))
        tokens = min(float(self.chat_burst), tokens + (now - at))
        if tokens < 1.0:
            wait = max(wait, 1.0 - tokens)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise _APIError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        self._send_times.append(now)
        self._chat_tokens[chat_id] = (tokens - 1.0, now)

    def _message_to_edit(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")  # inline mode is not faked
        chat_id = self._chat_id(params)
        message_id = params.get("message_id")
        message = self.find_message(chat_id, message_id) if isinstance(message_id, int) else None
        if message is None:
            raise _bad_request("message to edit not found")
        return message

    # -- methods -------------------------------------------------------------------------------

    async def _true(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        return True

    async def _get_me(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return dict(self.bot_user)

    async def _get_updates(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        if self.webhook_url:
            raise _APIError(409, WEBHOOK_CONFLICT)
        offset = params.get("offset")
        limit = params.get("limit") or 100
        limit = min(max(int(limit), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        allowed = params.get("allowed_updates")
        if allowed is not None:
            self.allowed_updates = list(allowed) or None  # Telegram remembers the last list
        self.offsets.append(offset)
        if isinstance(offset, int) and offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self.confirmed_update_id = max(self.confirmed_update_id, offset - 1)
        elif isinstance(offset, int) and offset < 0:
            self._updates = self._updates[offset:]
        self._offsets_changed.notify()
        # Telegram answers an older, still-waiting getUpdates with 409 when a new one arrives.
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_changed.notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise _APIError(409, POLL_CONFLICT)
            wanted = self.allowed_updates
            # Not copied: _handle serializes the answer before anything can change them.
            batch = [u for u in self._updates if not wanted or any(kind in u for kind in wanted)][
                :limit
            ]
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing:
                return batch
            await self._updates_changed.wait(remaining)

    async def _delete_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _set_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self.webhook_url = str(params.get("url") or "")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _set_my_commands(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("too many commands specified")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("command description must be non-empty")
        self.commands[self._commands_key(params)] = [dict(c) for c in commands]
        return True

    async def _get_my_commands(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

    async def _delete_my_commands(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _answer_callback_query(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_callbacks:
            raise _bad_request(QUERY_INVALID)
        if len(str(params.get("text") or "")) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        self._open_callbacks.discard(query_id)  # a query can be answered only once
        self.callback_answers[query_id] = dict(params)
        return True

    async def _send_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = self._check_send(params)
        text, entities = self._format(params, "text", MAX_TEXT_LENGTH, required=True)
        markup = self._inline_markup(params)
        self._check_rate(chat_id)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        if markup is not None:
            content["reply_markup"] = markup
        return self._bot_message(chat_id, content)

    async def _edit_message_text(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        message = self._message_to_edit(params)
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        text, entities = self._format(params, "text", MAX_TEXT_LENGTH, required=True)
        markup = self._inline_markup(params)  # no markup given removes the keyboard
        if (
            text == message["text"]
            and entities == message.get("entities", [])
            and markup == message.get("reply_markup")
        ):
            raise _APIError(400, NOT_MODIFIED)
        message["text"] = text
        self._set_optional(message, "entities", entities or None)
        self._set_optional(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    async def _edit_message_reply_markup(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        message = self._message_to_edit(params)
        markup = self._inline_markup(params)
        if markup == message.get("reply_markup"):
            raise _APIError(400, NOT_MODIFIED)
        self._set_optional(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    async def _delete_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = self._chat_id(params)
        message_id = params.get("message_id")
        message = self.find_message(chat_id, message_id) if isinstance(message_id, int) else None
        if message is None:
            raise _bad_request("message to delete not found")
        self.messages[chat_id].remove(message)
        return True

    async def _send_document(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._send_file("sendDocument", "document", params, files)

    async def _send_photo(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._send_file("sendPhoto", "photo", params, files)

    def _send_file(
        self, method: str, kind: str, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        chat_id = self._check_send(params)
        upload = self._resolve_file(kind, params, files)
        caption, caption_entities = self._format(
            params, "caption", MAX_CAPTION_LENGTH, required=False
        )
        markup = self._inline_markup(params)
        self._check_rate(chat_id)
        n = next(self._file_ids)
        if upload is not None:
            filename, size, mime = upload.filename, upload.size, upload.content_type
        else:  # a file_id or URL Telegram would fetch itself
            filename, size, mime = str(params[kind]).rsplit("/", 1)[-1], 0, ""
        mime = mimetypes.guess_type(filename)[0] or mime or "application/octet-stream"
        content: dict[str, Any] = {}
        if kind == "document":
            content["document"] = {
                "file_id": f"BQACAgIAAxkDAAI{n:06d}",
                "file_unique_id": f"AgAD{n:06d}",
                "file_name": filename,
                "mime_type": mime,
                "file_size": size,
            }
        else:
            content["photo"] = [
                {
                    "file_id": f"AgACAgIAAxkDAAI{n:06d}s",
                    "file_unique_id": f"AQAD{n:06d}s",
                    "width": 90,
                    "height": 90,
                    "file_size": min(size, 1500),
                },
                {
                    "file_id": f"AgACAgIAAxkDAAI{n:06d}m",
                    "file_unique_id": f"AQAD{n:06d}m",
                    "width": 800,
                    "height": 800,
                    "file_size": size,
                },
            ]
        if caption:
            content["caption"] = caption
        if caption_entities:
            content["caption_entities"] = caption_entities
        if markup is not None:
            content["reply_markup"] = markup
        self.uploads.append(
            {
                "method": method,
                "chat_id": chat_id,
                "filename": filename,
                "size": size,
                "caption": caption,
                "data": upload.data if upload else None,
            }
        )
        return self._bot_message(chat_id, content)

    @staticmethod
    def _resolve_file(
        kind: str, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> UploadedFile | None:
        """The uploaded file a send refers to; None when it names a file_id or URL."""
        # aiogram uploads as document="attach://<random key>" plus a file part <random key>;
        # other clients put the file part under the parameter name itself.
        value = params.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None:
                raise _bad_request(f"wrong file identifier/HTTP URL specified: {value}")
        elif kind in files:
            upload = files[kind]
        elif value:
            return None
        else:
            raise _bad_request(f"there is no {kind} in the request")
        if not upload.data:
            raise _bad_request("file must be non-empty")
        return upload

    @staticmethod
    def _set_optional(message: dict[str, Any], key: str, value: Any) -> None:
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value
