"""The house's direction of imports (pyproject's import-linter contract) holds: no back-arrows."""

from __future__ import annotations

import os
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]


def test_imports_run_one_way_only(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(os.fspath(ROOT))
    assert lint_imports(config_filename="pyproject.toml", no_cache=True, no_logo=True) == 0
