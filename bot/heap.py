"""The cyclic garbage collector around `cso-bot run`'s start-up.

Start-up is almost all imports and class creation (aiogram's ~660 pydantic models, SQLAlchemy,
our handlers): objects that live as long as the process and are seldom garbage. While they pile
up, the collector runs again and again, and each full collection walks the whole growing heap:
~0.4 s of CPU in `python -c "import aiogram"` alone on the project's machine, ~15 % of it.
So `cso-bot run` pauses the collector before its imports and, once the bot is ready to poll (or
listen), collects once, freezes what is alive and resumes it: the same heap as before, without
the collections in between. Only `cso-bot run` does this; other commands and library users
never see the collector paused. A start that has to wait for the Bot API resumes it at the
first failed try (bot/run.py reach_api): the wait may be long and is in no hurry.
"""

from __future__ import annotations

import gc


def pause_collector() -> None:
    """Before the start-up's imports: no automatic collection until settle_heap()."""
    gc.disable()


def settle_heap() -> None:
    """After start-up: the garbage start-up made is collected (one full collection), and the
    objects alive now (imported modules, the plan, pydantic's models) live as long as the
    process, so they leave the collector's view. A full collection then no longer walks the
    whole import-time heap (measured: ~0.2 ms per update on average). The collector runs again
    from here on (it may have been paused by pause_collector())."""
    gc.collect()
    gc.freeze()
    gc.enable()


def resume_collector() -> None:
    """The collector runs again (a start that ended before settle_heap(), e.g. stopped while
    the Bot API was unreachable)."""
    gc.enable()
