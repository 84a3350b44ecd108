"""CSV as people's spreadsheets save and open it: a UTF-8 BOM out; comma or semicolon, UTF-8 or
Windows-1251 in, each recognised from the bytes rather than assumed."""

from __future__ import annotations

import csv
import io
import re

__all__ = ["BOM", "CsvFileError", "decode", "read_rows", "sniff_delimiter"]

# Excel opens a CSV as UTF-8 only when it starts with this; without it Cyrillic is garbled.
BOM = "\ufeff"
DELIMITERS = ",;"
# What a Ukrainian (or Russian) spreadsheet saved as Windows-1251 holds besides ASCII: the
# letters А-я with Ґ Є І Ї Ё, and the typography (№ « » – — ’ … and the non-breaking space).
_CP1251_TEXT = frozenset(
    [chr(c) for c in range(0x410, 0x450)] + list("ҐґЄєІіЇїЁё№«»–—’‘“”„…\u00a0")
)

_WORD = re.compile(r"\w+")


class CsvFileError(ValueError):
    """The bytes are not a CSV file this module can read; the message says what was expected."""


def decode(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without a BOM), else Windows-1251 when it reads
    as Ukrainian text; anything else is refused rather than turned into mojibake."""
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        raise CsvFileError(
            "the file is UTF-16 ('Unicode text'); save it as 'CSV UTF-8' "
            "or 'CSV (comma delimited)'"
        )
    if data.startswith(BOM.encode("utf-8")):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        text = ""
    if text and _reads_as_cyrillic(text):
        return text
    raise CsvFileError("the file is neither UTF-8 nor Windows-1251 text; save it as 'CSV UTF-8'")


def _reads_as_cyrillic(text: str) -> bool:
    """Whether the text reads as Ukrainian: no byte became a rare symbol (Ђ, ‰, Ў), and most
    words with Cyrillic letters have no Latin ones.

    Latin-1 accents turn into Cyrillic letters inside Latin words ("Café" into "Cafй"); a typo
    such as a Latin i in "Вiнниця" is rare enough not to outweigh the rest of the file.
    """
    if not all(c in _CP1251_TEXT for c in text if ord(c) > 127):
        return False
    words = [w for w in _WORD.findall(text) if any(ord(c) > 127 for c in w)]
    mixed = sum(1 for w in words if any("a" <= c.lower() <= "z" for c in w))
    return mixed * 2 <= len(words)


def sniff_delimiter(header: str) -> str:
    """Comma or semicolon, whichever separates the header line (Excel in a Ukrainian locale
    saves semicolons); column names hold neither, so the commoner one is the separator."""
    return ";" if header.count(";") > header.count(",") else ","


def read_rows(data: bytes) -> list[list[str]]:
    """Every row of a CSV file's bytes, in whichever encoding and delimiter it was saved."""
    text = decode(data)
    header = text.splitlines()[0] if text else ""
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(header)))
    except csv.Error as e:
        raise CsvFileError(f"the file is not valid CSV ({e})") from e
