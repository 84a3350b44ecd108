"""Files shipped with the bot (the plan of Annex 4, the translations), from the tree or the wheel.

In a source checkout they are the project's own `data/` and `locales/`; an installed wheel
carries copies under `bot/shipped/` (setup.py puts them there, translations compiled), so
`cso-bot` runs from any working directory without the source tree.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent
_SHIPPED = _HERE / "shipped"
_SOURCE = _HERE.parent


def shipped(relative: str) -> Path:
    """The shipped file or folder at `relative` (e.g. "data/annex4.yaml")."""
    installed = _SHIPPED / relative
    return installed if installed.exists() else _SOURCE / relative


DEFAULT_PLAN_FILE = shipped("data/annex4.yaml")
LOCALES_DIR = shipped("locales")
