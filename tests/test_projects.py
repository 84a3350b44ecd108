"""Current projects through the real dispatcher: adding, listing, refusing bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.app import App
from db.projects import NewProject
from plan.clock import Clock
from tests.conftest import Chat, texts

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
MEMBER_ID = 100


@pytest.fixture
def clock() -> Clock:
    return Clock.fixed(NOW)


@pytest.fixture
async def member(app: App) -> Chat:
    async with app.db.transaction() as repo:
        org = await repo.organisations.create("ГО «Рух»", edrpou=None, status="verified")
        await repo.memberships.request(MEMBER_ID, org.id, approved=True)
    return Chat(app, MEMBER_ID)


FORM = [
    "/newproject",
    "Школа <громадського> активіста",
    "ГО «Рух», департамент освіти",
    "2.1.3, 1.1.1",
    "Навчання для молоді & ІГС",
    "https://example.org/school",
    "31.12.2026",
]


async def test_member_adds_a_project_that_is_listed_at_once(member: Chat, app: App) -> None:
    sent = None
    for step in FORM:
        sent = await member.send(step)
    assert sent is not None
    summary = texts(sent)
    assert "Перевірте проєкт" in summary
    assert "Школа &lt;громадського&gt; активіста" in summary
    assert "Навчання для молоді &amp; ІГС" in summary
    assert "31.12.2026" in summary
    assert "додано" in texts(await member.tap("Опублікувати"))
    text = texts(await Chat(app, 555).send("/projects"))
    assert "Школа &lt;громадського&gt; активіста" in text
    assert "2.1.3, 1.1.1" in text
    assert 'href="https://example.org/school"' in text


async def test_expired_projects_are_not_listed(chat: Chat, app: App) -> None:
    async with app.db.transaction() as repo:
        for title, until in (("Старий", date(2026, 3, 9)), ("Чинний", date(2026, 3, 10))):
            await repo.projects.add(
                NewProject(title, "ІРМ", ("2.1.3",), "", None, until, added_by=1)
            )
    text = texts(await chat.send("/projects"))
    assert "Чинний" in text and "Старий" not in text


async def test_no_projects(chat: Chat) -> None:
    assert "/newproject" in texts(await chat.send("/projects"))


@pytest.mark.parametrize(
    ("step", "bad", "reason"),
    [
        (3, "9.9.9", "немає заходу"),
        (5, "example.org", "посилання"),
        (6, "01.01.2026", "минула"),
        (6, "2026-12-31", "Не вдалося прочитати дату"),
        (6, "31.02.2026", "немає такої дати"),
    ],
)
async def test_bad_inputs_are_refused(member: Chat, step: int, bad: str, reason: str) -> None:
    for answer in FORM[:step]:
        await member.send(answer)
    sent = await member.send(bad)
    assert reason in texts(sent)


async def test_guest_cannot_add_and_cancel_leaves_nothing(member: Chat, app: App) -> None:
    assert "/register" in texts(await Chat(app, 555).send("/newproject"))
    await member.send("/newproject")
    await member.send("Назва")
    assert "не додано" in texts(await member.send("/cancel"))
    async with app.db.read() as repo:
        assert await repo.projects.active(date(2026, 1, 1)) == []


async def test_printed_codes_are_accepted_and_the_doubled_one_is_offered(
    member: Chat, app: App
) -> None:
    for answer in FORM[:3]:
        await member.send(answer)
    sent = await member.send("1.4.3")
    assert "позначено" in texts(sent) and "немає заходу" not in texts(sent)
    assert [b[:6] for b in member.buttons()[:2]] == ["1.3.3.", "1.3.4."]
    await member.tap("1.3.3.")
    for answer in FORM[4:]:
        await member.send(answer)
    await member.tap("Опублікувати")
    text = texts(await Chat(app, 555).send("/projects"))
    assert "1.3.3" in text


async def test_a_unique_printed_code_is_its_measure(member: Chat) -> None:
    for answer in [*FORM[:3], "1.4.2", *FORM[4:]]:
        sent = await member.send(answer)
    assert "1.3.2" in texts(sent)
