"""The wheel carries the plan and the compiled translations (bot/shipped/); see bot/resources.py.

Everything else about the package is in pyproject.toml. A hand-written build step because the
fixed layout keeps data/ and locales/ beside the packages, not inside one, and the .mo files are
built, not committed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithShippedFiles(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads data/ and locales/ in the tree itself
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        shipped = Path(self.build_lib) / "bot" / "shipped"
        (shipped / "data").mkdir(parents=True, exist_ok=True)
        for plan in sorted((ROOT / "data").glob("*.yaml")):
            shutil.copy2(plan, shipped / "data" / plan.name)
        for po in sorted((ROOT / "locales").glob("*/LC_MESSAGES/*.po")):
            relative = po.relative_to(ROOT / "locales")
            mo = (shipped / "locales" / relative).with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source:
                catalog = read_po(source, locale=relative.parts[0], domain=po.stem)
            with mo.open("wb") as target:
                write_mo(target, catalog)


setup(cmdclass={"build_py": BuildWithShippedFiles})
