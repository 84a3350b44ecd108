"""Interface strings: gettext catalogues in locales/, Ukrainian first, compiled when stale."""

from __future__ import annotations

from pathlib import Path

from aiogram.utils.i18n import I18n

from bot.resources import LOCALES_DIR

DOMAIN = "messages"
DEFAULT_LOCALE = "uk"
LOCALES = ("uk", "en")


def compile_catalogs(locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """Compile every .po whose .mo is missing or older; return the files written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parents[1].name, domain=DOMAIN)
        with mo.open("wb") as f:
            write_mo(f, catalog)
        written.append(mo)
    return written


def build_i18n(locales_dir: Path = LOCALES_DIR) -> I18n:
    compile_catalogs(locales_dir)
    return I18n(path=locales_dir, default_locale=DEFAULT_LOCALE, domain=DOMAIN)
