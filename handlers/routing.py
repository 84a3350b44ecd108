"""Routing without waste: routers an update cannot concern are skipped whole, filters run inline.

aiogram walks routers depth first and tries every handler's filters in turn, so a plain text
used to enter ~40 routers before search took it. `index_routes` gives each router a router-level
filter, `Reachable`, derived from the handlers registered in its tree: which commands (or
callback prefixes) they take, in which FSM states. An update whose (command or prefix, state)
no handler below declares skips the whole router at once; a dialog's text only enters the
routers with a handler for its state, a command only those with its name in their command table,
a button only those knowing its prefix. The declarations stay the one source: a handler added
later is indexed when the dispatcher is built.

The index is an over-approximation by construction: a filter it does not know (a role, a magic
filter) counts as "may pass", so a router is skipped only where none of its handlers could have
matched, and the order handlers see updates in is unchanged.

aiogram runs a filter that is a plain function or a bare `F` expression through
`asyncio.to_thread` (a thread hop per check); `Inline`, `TYPED`, `TEXT` and `COMMAND_TEXT` check
the same expressions in the event loop.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from inspect import isclass
from typing import Any, Final

from aiogram import F, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command, Filter, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject
from magic_filter import MagicFilter


class Inline(Filter):
    """A magic `F` filter resolved in the event loop, with aiogram's meaning of its result."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject, **data: Any) -> Any:
        return self.magic.resolve(event)


class Typed(Inline):
    """A message that is not a command (`~F.text.startswith("/")`): dialogs read these.

    The three filters below are on most updates' way, so each checks its expression in plain
    Python (the same results as `magic` resolves to; tests/test_routing.py compares them)."""

    def __init__(self) -> None:
        super().__init__(~F.text.startswith("/"))

    async def __call__(self, event: TelegramObject, **data: Any) -> Any:
        text = getattr(event, "text", None)
        return not (isinstance(text, str) and text.startswith("/"))


class CommandText(Inline):
    """A message whose text is some command (`F.text.startswith("/")`)."""

    def __init__(self) -> None:
        super().__init__(F.text.startswith("/"))

    async def __call__(self, event: TelegramObject, **data: Any) -> Any:
        text = getattr(event, "text", None)
        return text.startswith("/") if isinstance(text, str) else None


class HasText(Inline):
    """A message with text (`F.text`): its text, which aiogram takes as passing unless empty."""

    def __init__(self) -> None:
        super().__init__(F.text)

    async def __call__(self, event: TelegramObject, **data: Any) -> Any:
        return getattr(event, "text", None)


TYPED: Final = Typed()
COMMAND_TEXT: Final = CommandText()
TEXT: Final = HasText()

# Keys of the index: (head, state). A head is a command's name ("" for a message that is no
# command) or a button's callback prefix; either part may be ANY.
ANY: Final = object()
ANY_COMMAND: Final = object()
NOT_COMMAND: Final = ""
Key = tuple[object, object]


def _command_head(text: str) -> str:
    """A command's name as aiogram's Command filter reads it, case-folded ("" if none)."""
    full = text.split(maxsplit=1)[0] if text.strip() else ""
    return full[1:].partition("@")[0].casefold()


def heads(event: TelegramObject) -> tuple[object, ...]:
    """The heads under which handlers for this update are indexed."""
    if isinstance(event, CallbackQuery):
        return ((event.data or "").partition(":")[0], ANY)
    if isinstance(event, Message):
        if event.text is not None:
            if event.text.startswith("/"):
                return (_command_head(event.text), ANY_COMMAND, ANY)
            return (NOT_COMMAND, ANY)
        if event.caption is not None and event.caption.startswith("/"):
            # Command reads captions too, the text filters see no text: either may match.
            return (_command_head(event.caption), NOT_COMMAND, ANY_COMMAND, ANY)
        return (NOT_COMMAND, ANY)
    return (ANY,)


class Reachable(Filter):
    """Router-level: passes when some handler in the router's tree is declared for the update's
    head (command, prefix) in its state."""

    def __init__(self, keys: frozenset[Key]) -> None:
        self.keys = keys

    async def __call__(self, event: TelegramObject, raw_state: str | None = None) -> bool:
        return reaches(self.keys, event, raw_state)


def reaches(keys: frozenset[Key], event: TelegramObject, raw_state: str | None) -> bool:
    """Some handler indexed under keys is declared for the event's head in this state."""
    return any((h, raw_state) in keys or (h, ANY) in keys for h in heads(event))


def _states(check: StateFilter) -> list[object]:
    found: list[object] = []
    for state in check.states:
        if isinstance(state, State):
            state = state.state
        if state is None or isinstance(state, str):
            found.append(ANY if state == "*" else state)
        elif isclass(state) and issubclass(state, StatesGroup):
            found.extend(state.__all_states_names__)
        else:  # a StatesGroup instance or anything newer: may match any state
            return [ANY]
    return found


def _message_heads(check: Filter) -> list[object] | None:
    if isinstance(check, Command):
        if check.prefix != "/" or any(isinstance(c, re.Pattern) for c in check.commands):
            return [ANY]
        return [str(c).casefold() for c in check.commands]
    if isinstance(check, Typed):
        return [NOT_COMMAND]
    if isinstance(check, CommandText):
        return [ANY_COMMAND]
    return None


def _callback_heads(check: Filter) -> list[object] | None:
    if isinstance(check, CallbackQueryFilter):
        cls = check.callback_data
        return [cls.__prefix__] if cls.__separator__ == ":" else [ANY]
    return None


def _handler_keys(observer: TelegramEventObserver, name: str) -> Iterator[Key]:
    read = _callback_heads if name == "callback_query" else _message_heads
    for handler in observer.handlers:
        head_set: list[object] = [ANY]
        state_set: list[object] = [ANY]
        for filter_object in handler.filters or ():
            check = filter_object.callback
            if not isinstance(check, Filter):
                continue
            found = read(check)
            if found is not None and head_set == [ANY]:
                head_set = found
            elif isinstance(check, StateFilter) and state_set == [ANY]:
                state_set = _states(check)
        yield from ((h, s) for h in head_set for s in state_set)


INDEXED = ("message", "callback_query")


def _tree_keys(router: Router, name: str) -> frozenset[Key]:
    keys = set(_handler_keys(router.observers[name], name))
    for sub in router.sub_routers:
        keys |= _tree_keys(sub, name)
    return frozenset(keys)


class Gate:
    """A router's `propagate_event` that turns an update away before aiogram's machinery
    (outer middleware chain, wrappers, root filters) when `Reachable` would: a router skipped
    this way costs a set lookup instead of ~15 µs. Used where the observer has no outer
    middleware of its own (which would have run before the filter); the others keep the
    filter. The router's class method is looked up at each call, so whatever wraps
    `Router.propagate_event` (bench.routing's counting) sees the routers entered."""

    __slots__ = ("keys", "router")

    def __init__(self, router: Router, keys: dict[str, frozenset[Key]]) -> None:
        self.router = router
        self.keys = keys

    async def __call__(self, update_type: str, event: TelegramObject, **kwargs: Any) -> Any:
        keys = self.keys.get(update_type)
        if keys is not None and not reaches(keys, event, kwargs.get("raw_state")):
            return UNHANDLED
        return await type(self.router).propagate_event(self.router, update_type, event, **kwargs)


class Table:
    """The features' router's `propagate_event`: the update goes straight to the features
    that may take it, in their order, instead of to each feature (or group of them) to ask.

    Built from the same index as `Gate`: per update type, which features declare a handler for
    each (head, state). A feature whose observer has an outer middleware of its own (which
    must see the update before its `Reachable` filter), or whose handlers take anything, is
    asked always. The router it stands for has no handlers, filters or middleware of its own,
    so nothing of aiogram's is skipped; update types not indexed go to every feature, as
    aiogram sends them."""

    __slots__ = ("always", "index", "router")

    def __init__(self, router: Router) -> None:
        self.router = router
        self.index: dict[str, dict[Key, frozenset[int]]] = {}
        self.always: dict[str, frozenset[int]] = {}
        for name in INDEXED:
            by_key: dict[Key, set[int]] = {}
            always: set[int] = set()
            for position, feature in enumerate(router.sub_routers):
                keys = _tree_keys(feature, name)
                if (ANY, ANY) in keys or len(feature.observers[name].outer_middleware):
                    always.add(position)
                    continue
                for key in keys:
                    by_key.setdefault(key, set()).add(position)
            self.index[name] = {key: frozenset(found) for key, found in by_key.items()}
            self.always[name] = frozenset(always)

    def candidates(
        self, update_type: str, event: TelegramObject, raw_state: str | None
    ) -> list[Router]:
        """The features that may take the update, in order (all of them if not indexed)."""
        features = self.router.sub_routers
        index = self.index.get(update_type)
        if index is None:
            return features
        found = set(self.always[update_type])
        for head in heads(event):
            found.update(index.get((head, raw_state), ()))
            found.update(index.get((head, ANY), ()))
        return [features[position] for position in sorted(found)]

    async def __call__(self, update_type: str, event: TelegramObject, **kwargs: Any) -> Any:
        kwargs.update(event_router=self.router)  # as Router.propagate_event does
        for feature in self.candidates(update_type, event, kwargs.get("raw_state")):
            # Entered past its Gate: the table checked the same keys (and a Gate lets an update
            # type it does not index through anyway).
            response = await type(feature).propagate_event(
                feature, update_type=update_type, event=event, **kwargs
            )
            if response is not UNHANDLED:
                return response
        return UNHANDLED


def gate_of(router: Router) -> Gate | None:
    gate = router.__dict__.get("propagate_event")
    return gate if isinstance(gate, Gate) else None


def table_of(router: Router) -> Table | None:
    table = router.__dict__.get("propagate_event")
    return table if isinstance(table, Table) else None


def route_by_table(router: Router) -> None:
    """Send updates from `router` straight to those of its sub-routers that may take them;
    call after `index_routes`, once every handler is registered."""
    router.propagate_event = Table(router)  # type: ignore[method-assign]


def index_routes(router: Router) -> None:
    """Index every router in the tree (not the top one: it sees everything) for messages and
    buttons, by a `Gate` or, under an outer middleware, a `Reachable` filter; call once all
    handlers are registered."""
    for sub in router.sub_routers:
        gated: dict[str, frozenset[Key]] = {}
        for name in INDEXED:
            keys = _tree_keys(sub, name)
            if (ANY, ANY) in keys:
                continue
            observer = sub.observers[name]
            if len(observer.outer_middleware):
                observer.filter(Reachable(keys))
            else:
                gated[name] = keys
        if gated:
            sub.propagate_event = Gate(sub, gated)  # type: ignore[method-assign]
        index_routes(sub)
