"""Current projects through the real dispatcher: adding, listing, refusing bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.app import App
from db.projects import NewProject, ProjectRecord
from handlers.projects import ProjectManageCb
from plan.clock import Clock
from tests.conftest import COORDINATOR_ID, Chat, texts

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
    assert "31 грудня 2026" in summary
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
        (6, "до кінця року", "Не вдалося прочитати дату"),
        (6, "31.02.2026", "немає такої дати"),
        (6, "5 травня 2020", "минула"),  # the month in words is read too
        (1, "Ш" * 201, "201 символ,"),  # the number and the word agree
        (1, "Ш" * 254, "254 символи,"),
        (1, "Ш" * 300, "300 символів,"),
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


# --- editing and removing ----------------------------------------------------------------------

STRANGER_ID = 555


async def _project(app: App, added_by: int = MEMBER_ID) -> int:
    async with app.db.transaction() as repo:
        return await repo.projects.add(
            NewProject(
                "Школа активіста", "ГО «Рух»", ("2.1.3",), "Навчання", None,
                date(2026, 12, 31), added_by=added_by,
            )
        )  # fmt: skip


async def _get(app: App, project_id: int) -> ProjectRecord | None:
    async with app.db.read() as repo:
        return await repo.projects.get(project_id)


async def test_the_author_edits_a_project_from_its_summary(member: Chat, app: App) -> None:
    project_id = await _project(app)
    await member.send("/projects")
    sent = await member.tap(f"✏ №{project_id}")
    assert "Перевірте проєкт" in texts(sent) and "Школа активіста" in texts(sent)
    await member.tap("✏ Назва")
    await member.send("Школа громадського активіста")
    await member.tap("✏ Опис")
    await member.send("Навчання для молоді")
    await member.tap("✏ Посилання")
    await member.send("https://example.org/school")
    await member.tap("✏ Заходи плану")
    summary = texts(await member.send("2.1.2, 2.1.3"))
    assert "Школа громадського активіста" in summary and "2.1.2, 2.1.3" in summary
    assert "збережено" in texts(await member.tap("Зберегти"))
    project = await _get(app, project_id)
    assert project is not None
    assert project.title == "Школа громадського активіста"
    assert project.description == "Навчання для молоді"
    assert project.link == "https://example.org/school"
    assert project.measures == ("2.1.2", "2.1.3")
    assert project.added_by == MEMBER_ID and project.organisations == "ГО «Рух»"
    async with app.db.read() as repo:
        assert len(await repo.projects.active(date(2026, 3, 10))) == 1, "edited, not added"


async def test_a_coordinator_removes_a_project_after_confirming(
    coordinator: Chat, app: App
) -> None:
    project_id = await _project(app)
    await coordinator.send("/projects")
    sent = await coordinator.tap(f"🗑 №{project_id}")
    assert "Прибрати проєкт «Школа активіста»" in texts(sent)
    await coordinator.tap("Ні")
    assert await _get(app, project_id) is not None
    await coordinator.send("/projects")
    await coordinator.tap(f"🗑 №{project_id}")
    assert "прибрано" in texts(await coordinator.tap("Так"))
    assert await _get(app, project_id) is None
    async with app.db.read() as repo:
        assert await repo.activities.audit_count("project") == 1


async def test_others_cannot_edit_or_remove(member: Chat, app: App) -> None:
    project_id = await _project(app, added_by=COORDINATOR_ID)
    stranger = Chat(app, STRANGER_ID)
    for chat in (member, stranger):
        await chat.send("/projects")
        assert not any("№" in b for b in chat.buttons()), "no buttons for others' projects"
        for action in ("edit", "remove", "remove_yes"):
            sent = await chat.press(1, ProjectManageCb(action=action, id=project_id).pack())
            alert = " ".join(str(getattr(r, "text", "")) for r in sent)
            assert "Лише автор проєкту та координатори" in alert
    project = await _get(app, project_id)
    assert project is not None and project.title == "Школа активіста"
    key = StorageKey(bot_id=member.bot.id, chat_id=MEMBER_ID, user_id=MEMBER_ID)
    assert await app.dispatcher.storage.get_state(key) is None, "no form was opened"
    async with app.db.read() as repo:
        assert await repo.activities.audit_count("project") == 0
