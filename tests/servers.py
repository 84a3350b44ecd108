"""The throwaway servers for the tests (fakes/servers.py, tests/postgres.py): when CI is set
a missing binary fails the test, never skips it."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def start_or_skip(start: Callable[[], T]) -> T:
    try:
        return start()
    except (FileNotFoundError, RuntimeError) as e:
        if os.environ.get("CI"):
            pytest.fail(str(e))
        pytest.skip(str(e))
