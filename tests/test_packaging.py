"""The wheel runs on its own: plan and translations inside, from a fresh venv outside the tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy: a build leaves build/ and *.egg-info beside setup.py.
    source = out / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "var", "build", "*.egg-info", "__pycache__", ".*_cache", "bench"
        ),
    )
    subprocess.run(
        [
            sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
            "--no-build-isolation", "--wheel-dir", str(out), str(source),
        ],
        check=True,
        cwd=out,
    )  # fmt: skip
    (built,) = out.glob("cso_bot-*.whl")
    return built


def test_the_wheel_carries_the_plan_and_compiled_translations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "bot/shipped/data/annex4.yaml" in names
    for locale in ("uk", "en"):
        assert f"bot/shipped/locales/{locale}/LC_MESSAGES/messages.mo" in names
    assert any(n.startswith("db/migrations/") and n.endswith(".sql") for n in names)
    assert {"db/revisions/env.py", "db/revisions/versions/r0011_baseline.py"} <= names


def test_the_installed_wheel_runs_outside_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(fresh)
    python = fresh / "bin" / "python"
    target = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)  # what installing a pure-Python wheel amounts to
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The project's dependencies, but not the project: the test venv's packages come after.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": sysconfig.get_paths()["purelib"],
        "HOME": str(tmp_path),
    }
    run = [str(python), "-c", "import sys; from bot.cli import main; sys.exit(main())"]
    where = subprocess.run(
        [str(python), "-c", "import bot; print(bot.__file__)"],
        check=True, capture_output=True, text=True, cwd=elsewhere, env=env,
    ).stdout  # fmt: skip
    assert where.startswith(target)
    exported = subprocess.run(
        [*run, "plan", "export"], check=True, capture_output=True, text=True, cwd=elsewhere,
        env=env,
    )  # fmt: skip
    plan = json.loads(exported.stdout)
    assert len(plan["measures"]) == 27
    assert not (elsewhere / "var").exists()  # exporting the plan needs no database
    # The migrations run from the wheel: a new database is created with no alembic.ini.
    checked = subprocess.run(
        [*run, "db", "check"], capture_output=True, text=True, cwd=elsewhere,
        env={**env, "DATABASE_PATH": str(tmp_path / "wheel.sqlite3")},
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert "integrity ok" in checked.stdout


def test_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("cso-bot ")


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_PATH": str(tmp_path / "db.sqlite3")}
    shell = f"{sys.executable} -m bot.cli plan export | head -c 10"
    out = subprocess.run(
        ["bash", "-c", shell], capture_output=True, text=True, env=env, cwd=tmp_path, check=True
    )
    assert out.stdout == '{\n  "plan"'[:10]
    assert "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr
