"""The wheel carries the website's templates and stylesheet, so `cso-bot web` runs installed."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.test_packaging import wheel

__all__ = ["wheel"]  # the fixture, shared with the packaging tests


def test_the_wheel_carries_the_site(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = sorted(p.name for p in (Path(__file__).parents[1] / "web" / "templates").iterdir())
    assert templates and all(f"web/templates/{t}" in names for t in templates)
    assert "web/static/style.css" in names
    assert "formats/spreadsheet_csv.py" in names and "handlers/report_docx.py" in names
