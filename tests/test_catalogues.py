"""Every interface string is translated in both catalogues, and both cover what the code says."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ("uk", "en")
SOURCES = ("handlers", "bot", "scheduler")
KEYWORDS = {"_": None, "__": None, "gettext": None, "ngettext": (1, 2)}


def _catalogue(locale: str):  # type: ignore[no-untyped-def]
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def _in_code() -> set[str]:
    found: set[str] = set()
    for folder in SOURCES:
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, keywords=KEYWORDS, comment_tags=()
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_no_empty_translation(locale: str) -> None:
    empty = [
        m.id
        for m in _catalogue(locale)
        if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    assert empty == [], f"{len(empty)} untranslated in {locale}: {empty[:5]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_of_the_code_is_in_the_catalogue(locale: str) -> None:
    catalogue = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalogue(locale) if m.id}
    missing = sorted(_in_code() - catalogue)
    assert missing == [], f"{len(missing)} missing in {locale}: {missing[:5]}"
