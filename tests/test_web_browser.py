"""The public website in a real browser: headless Chromium against the real `cso-bot web`.

Activities go in through the CLI; members with Telegram ids and phone numbers are added to the
same database; the pages must show `cso-bot report --format json`'s numbers and none of that
personal data.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes.servers import free_port
from tests.test_cli import ROOT, _env, cso_bot

PLAN_ID = "vinnytsia-cso-partnership-2023-2024"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT = ROOT / "docs" / "web-plan.png"

# Personal data of members: none of it may reach a page.
MEMBERS = {
    987654321: "+380671234567",
    555000111: "+380509876543",
}
CONTACT_PERSON = "Оксана Приватна"

BAD_LINK = "javascript:void(0)"
CSV_ROWS = [
    "organization,measure,indicator,date,quantity,cso_participants,council_participants,"
    "title,evidence_url",
    "ГО Світло,1.1.1,1.1.1-trainings,2023-03-01,2,,,Тренінг з фандрайзингу,https://example.org/1",
    "ГО Світло,1.1.1,1.1.1-trainings,2024-04-11,6,,,Школа громадських лідерів,",
    "БФ Добро,2.1.2,2.1.2-dialogue-meetings,2024-03-01,1,5,1,Діалогова зустріч,",
    *(f"ГО Світло,2.1.3,,2024-{m:02d}-10,1,,,Розсилка {m},{BAD_LINK}" for m in range(1, 8)),
]


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            return f"{path} is not installed (Debian: apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


def _add_personal_data(database: Path) -> None:
    """Members, a joint activity, an event and a newsletter, as the bot would store them."""
    conn = sqlite3.connect(database)
    with conn:
        orgs = dict(conn.execute("SELECT name, id FROM organisations"))
        svitlo, dobro = orgs["ГО Світло"], orgs["БФ Добро"]
        for user_id, phone in MEMBERS.items():
            conn.execute(
                "INSERT INTO users (id, first_seen) VALUES (?, '2024-01-01T00:00:00')", (user_id,)
            )
            conn.execute(
                "INSERT INTO memberships (user_id, organisation_id, status, requested_at) "
                "VALUES (?, ?, 'approved', '2024-01-01T00:00:00')",
                (user_id, svitlo),
            )
            conn.execute(
                "UPDATE organisations SET contact = ?, contact_person = ?, registered_by = ? "
                "WHERE id = ?",
                (phone, CONTACT_PERSON, user_id, svitlo if user_id == 987654321 else dobro),
            )
        conn.execute("UPDATE activities SET reported_by = 987654321")
        joint = conn.execute(
            "SELECT id FROM activities WHERE title = 'Школа громадських лідерів'"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO activity_credits (activity_id, organisation_id) VALUES (?, ?)",
            (joint, dobro),
        )
        conn.execute(
            "INSERT INTO events (title, starts_at, ends_at, place, organiser, organisation_id, "
            "measures, description, status, proposed_by, created_by, created_at) VALUES "
            "('Форум громад', '2030-05-24T07:00:00+00:00', '2030-05-24T09:00:00+00:00', "
            "'Вінниця, вул. Соборна, 59', ?, ?, '[\"2.1.2\"]', ?, 'approved', 987654321, "
            "555000111, '2024-01-01T00:00:00')",
            (CONTACT_PERSON, svitlo, f"Дзвоніть {MEMBERS[555000111]}"),
        )
        conn.execute(
            "INSERT INTO newsletters (month, status, intro, parts, created_at, approved_by) "
            "VALUES ('2024-05', 'sent', 'Вітаємо!', ?, '2024-05-01T00:00:00', 555000111)",
            (json.dumps(["<b>Травень</b>: три заходи &amp; форум"], ensure_ascii=False),),
        )
    conn.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp_path = tmp_path_factory.mktemp("web")
    csv_file = tmp_path / "activities.csv"
    csv_file.write_text("\n".join(CSV_ROWS) + "\n", encoding="utf-8")
    imported = cso_bot(tmp_path, "activities", "import", str(csv_file), "--create-orgs")
    assert imported.returncode == 0, imported.stderr
    _add_personal_data(tmp_path / "var" / "bot.sqlite3")
    reports = {}
    for year in (2023, 2024):
        result = cso_bot(tmp_path, "report", "--year", str(year), "--format", "json")
        assert result.returncode == 0, result.stderr
        reports[year] = json.loads(result.stdout)

    port = free_port()
    env = _env(tmp_path, WEB_HOST="127.0.0.1", WEB_PORT=str(port), LOG_LEVEL="WARNING")
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "web"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()  # the server prints one line once it listens
        assert line.startswith("serving http://127.0.0.1:"), line + server.stderr.read()
        yield {"base": f"http://127.0.0.1:{port}", "reports": reports, "tmp": tmp_path}
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def browser(site: dict[str, Any]) -> Iterator[Any]:
    missing = _browser_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the browser: {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={site['tmp'] / 'chromium-profile'}",
        "--window-size=1000,1400",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _shown(element: Any, field: str) -> str:
    from selenium.webdriver.common.by import By

    return str(element.find_element(By.CSS_SELECTOR, f'[data-field="{field}"]').text)


def _assert_private(html: str) -> None:
    for user_id, phone in MEMBERS.items():
        assert str(user_id) not in html
        assert phone not in html
    assert CONTACT_PERSON not in html


def test_plan_pages_show_the_reports_numbers(site: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    for year, report in site["reports"].items():
        started = time.perf_counter()
        browser.get(f"{site['base']}/plan/{PLAN_ID}?year={year}")
        elapsed = time.perf_counter() - started
        assert elapsed < 5, f"the plan page took {elapsed:.2f} s"
        _assert_private(browser.page_source)
        assert browser.find_element(By.CSS_SELECTOR, '[aria-current="page"]').text == str(year)
        shown = {
            li.get_attribute("data-indicator"): li
            for li in browser.find_elements(By.CSS_SELECTOR, "li[data-indicator]")
        }
        assert len(shown) == len(report["indicators"]) == 44
        for entry in report["indicators"]:
            li = shown[entry["indicator"]]
            assert _shown(li, "actual") == str(entry["actual"])
            assert _shown(li, "target") == str(entry["target"])
            status = li.find_element(By.CSS_SELECTOR, '[data-field="status"]')
            assert status.get_attribute("data-status") == entry["status"]
            if "months_met" in entry:
                assert _shown(li, "months_met") == str(entry["months_met"])
        summary = browser.find_element(By.CSS_SELECTOR, "section.summary")
        assert _shown(summary, "summary-met") == str(report["summary"]["met"])
        assert _shown(summary, "summary-total") == str(report["summary"]["total"])
        for code, numbers in report["summary"]["directions"].items():
            row = browser.find_element(By.CSS_SELECTOR, f'tr[data-direction="{code}"]')
            assert (_shown(row, "met"), _shown(row, "total")) == (
                str(numbers["met"]),
                str(numbers["total"]),
            )
    # Something moved in 2024, so the test would notice numbers that are all zero.
    assert any(i["actual"] for i in site["reports"][2024]["indicators"])
    browser.get(f"{site['base']}/plan/{PLAN_ID}?year=2024")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    shot = site["tmp"] / "web-plan.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOT"):
        shutil.copyfile(shot, SCREENSHOT)


def test_measure_page_lists_organisations_only(site: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{site['base']}/plan/{PLAN_ID}/measure/1.1.1?year=2024")
    html = browser.page_source
    _assert_private(html)
    rows = browser.find_elements(By.CSS_SELECTOR, "tr[data-activity]")
    assert len(rows) == 1
    assert "ГО Світло, БФ Добро" in rows[0].text  # the joint one, credited to both
    assert "24 травня" not in rows[0].text and "11 квітня 2024" in rows[0].text
    assert "Відповідальні" in html and "Очікувані результати" in html
    li = browser.find_element(By.CSS_SELECTOR, 'li[data-indicator="1.1.1-trainings"]')
    entry = next(
        i for i in site["reports"][2024]["indicators"] if i["indicator"] == "1.1.1-trainings"
    )
    assert _shown(li, "actual") == str(entry["actual"])
    # An evidence link that is not a web address is never made clickable.
    browser.get(f"{site['base']}/plan/{PLAN_ID}/measure/2.1.3?year=2024")
    assert "javascript:" not in browser.page_source
    main = browser.find_element(By.TAG_NAME, "main").text.replace("\u00a0", " ")
    assert "7 заходів" in main  # Ukrainian plural agreement


def test_events_newsletters_and_every_page_keep_members_private(
    site: dict[str, Any], browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{site['base']}/events")
    _assert_private(browser.page_source)
    event = browser.find_element(By.CSS_SELECTOR, "li.event")
    assert "пт, 24 травня, 10:00" in event.text  # Kyiv time, Babel's Ukrainian names
    assert "ГО Світло" in event.text
    ics_url = event.find_element(By.PARTIAL_LINK_TEXT, ".ics").get_attribute("href")
    with urllib.request.urlopen(ics_url) as response:
        assert response.headers["Content-Type"].startswith("text/calendar")
        ics = response.read().decode("utf-8")
    assert "SUMMARY:Форум громад" in ics and "DTSTART:20300524T070000Z" in ics
    _assert_private(ics)

    browser.get(f"{site['base']}/newsletters")
    assert "травень 2024" in browser.page_source
    browser.find_element(By.LINK_TEXT, "травень 2024").click()
    assert "Травень: три заходи & форум" in browser.find_element(By.TAG_NAME, "main").text
    _assert_private(browser.page_source)

    # Every page of the site, both years, fetched as served.
    paths = ["/", "/events", "/newsletters", "/newsletters/2024-05"]
    plan = json.loads(cso_bot(site["tmp"], "plan", "export").stdout)
    codes = [m["code"] for m in plan["measures"]]
    for year in (2023, 2024):
        paths.append(f"/plan/{PLAN_ID}?year={year}")
        paths += [f"/plan/{PLAN_ID}/measure/{code}?year={year}" for code in codes]
    for path in paths:
        with urllib.request.urlopen(site["base"] + path) as response:
            assert response.status == 200, path
            _assert_private(response.read().decode("utf-8"))


def test_unknown_pages_are_404(site: dict[str, Any]) -> None:
    for path in (f"/plan/{PLAN_ID}?year=1999", "/plan/nope", "/events/999.ics", "/newsletters/x"):
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(site["base"] + path)
        assert error.value.code == 404, path
