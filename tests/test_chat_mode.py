"""`cso-bot chat`: buttons of any message on screen, files saved, others' messages marked."""

from __future__ import annotations

import io
from pathlib import Path

from bot.app import App
from bot.chat import TerminalChat
from tests.conftest import COORDINATOR_ID, USER_ID


async def _session(app: App, user_id: int, tmp_path: Path, *lines: str) -> str:
    out = io.StringIO()
    chat = TerminalChat(app, user_id, out=out, files_dir=tmp_path / "files")
    for line in lines:
        out.write(f"> {line}\n")
        await chat.say(line)
    return out.getvalue()


async def test_a_button_of_an_older_message_can_be_pressed(app: App, tmp_path: Path) -> None:
    screen = await _session(app, USER_ID, tmp_path, "/start", "форум", "1.1")
    # "1.1" pressed the first message's "📋 План" although the search answer came after it.
    assert "[1.1] 📋 План" in screen
    assert "[2.1]" in screen
    assert screen.rsplit("> 1.1", 1)[1].startswith("\n✎ План реалізації")


async def test_a_bare_number_presses_the_newest_keyboard_and_equals_sends_text(
    app: App, tmp_path: Path
) -> None:
    screen = await _session(app, USER_ID, tmp_path, "/start", "1", "=1")
    assert "✎ План реалізації" in screen.split("> 1\n", 1)[1]
    assert "За запитом «1» нічого не знайдено" in screen


async def test_files_the_bot_sends_are_saved_and_their_paths_shown(
    app: App, tmp_path: Path
) -> None:
    screen = await _session(app, COORDINATOR_ID, tmp_path, "/report", "1.6")  # JSON
    saved = list((tmp_path / "files").iterdir())
    assert len(saved) == 1 and saved[0].suffix == ".json"
    assert f"📎 {saved[0].resolve()}" in screen
    assert saved[0].read_bytes().startswith(b"{")


async def test_messages_to_other_people_are_shown_as_theirs(app: App, tmp_path: Path) -> None:
    steps = ("/register", "1.1", "ГО «Тест»", "30000005", "Іван Петренко", "+380501234567")
    screen = await _session(app, USER_ID, tmp_path, *steps, "5.1", "5.3", "6.1")
    # What registration told the coordinators is marked as sent to them, not shown as ours.
    to_coordinator = [line for line in screen.splitlines() if line.startswith("  ✉ [→ 900]")]
    assert to_coordinator and "Нова організація" in to_coordinator[0]
    assert COORDINATOR_ID == 900
