"""Who is sending: a name per running process, and whether a recorded one may still be alive."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime


def process_name() -> str:
    """'host:pid:run', unique to this run of this process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def dead_here(name: str) -> bool:
    """Whether `name` is a process of this machine that no longer runs (killed, crashed)."""
    host, _, rest = name.partition(":")
    pid = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def alive(name: str, seen: str, now: datetime, stale_after: float) -> bool:
    """Whether the process recorded as `name`, last heard of at `seen`, may still be at work."""
    try:
        seen_at = datetime.fromisoformat(seen)
    except ValueError:
        return False
    if (now - seen_at).total_seconds() > stale_after:
        return False
    # On this machine we need not wait for the heartbeat to age: a killed process is gone.
    return not dead_here(name)
