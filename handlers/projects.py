"""/projects and /newproject: current projects of CSOs and the City Council.

Projects added by members and coordinators go live at once (they are announcements, not
reports, and count towards nothing); what was added and by whom is kept in the database.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db import Database
from db.projects import NewProject, ProjectRecord
from handlers import commands
from handlers.events import on_not_member
from handlers.forms import (
    CONFIRM,
    Act,
    Form,
    FormCb,
    FormDraft,
    FormTexts,
    Question,
    Skip,
    Step,
    Turn,
    refusal,
    text_step,
)
from handlers.forms.measures import read_measures
from handlers.reply import answer, drop_keyboard
from handlers.roles import COORDINATOR, MEMBER, HasRole, guard
from plan.clock import Clock
from plan.validation import InputError, parse_url

MAX_TITLE = 200
MAX_ORGANISATIONS = 300
MAX_DESCRIPTION = 500
_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


class ProjectForm(StatesGroup):
    title = State()
    organisations = State()
    measures = State()
    description = State()
    link = State()
    until = State()
    confirm = State()


class ProjectCb(FormCb, prefix="prj"):
    """A button of the project dialog."""


@dataclass
class ProjectDraft(FormDraft):
    """The project so far, as kept in FSM data."""

    KEY = "project"

    title: str | None = None
    organisations: str | None = None
    measures: list[str] = field(default_factory=list)
    description: str = ""
    link: str | None = None
    until: str | None = None


def parse_until(raw: str, first: date) -> date:
    """ДД.ММ.РРРР, today or later."""
    match = _DATE.fullmatch(raw.strip())
    if not match:
        raise InputError("date_format")
    d, m, y = (int(g) for g in match.groups())
    try:
        value = date(y, m, d)
    except ValueError:
        raise InputError("date_invalid") from None
    if value < first:
        raise InputError("until_past")
    return value


def project_lines(project: dict[str, Any] | ProjectRecord) -> list[str]:
    p = project if isinstance(project, dict) else _as_dict(project)
    lines = [
        f"📌 <b>{escape(p['title'])}</b>",
        _("<b>Organisations:</b> {value}").format(value=escape(p["organisations"])),
        _("<b>Measures:</b> {value}").format(value=", ".join(p["measures"])),
    ]
    if p.get("description"):
        lines.append(escape(p["description"]))
    if p.get("link"):
        lines.append(f'<a href="{escape(p["link"])}">{escape(p["link"])}</a>')
    until = p["until"]
    if isinstance(until, str):
        until = date.fromisoformat(until)
    lines.append(_("<b>Active until:</b> {value}").format(value=until.strftime("%d.%m.%Y")))
    return lines


def _as_dict(project: ProjectRecord) -> dict[str, Any]:
    return {
        "title": project.title,
        "organisations": project.organisations,
        "measures": list(project.measures),
        "description": project.description,
        "link": project.link,
        "until": project.active_until,
    }


def ask_summary(turn: Turn[ProjectDraft]) -> Question:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Publish"), callback_data=ProjectCb(action=Act.submit))
    builder.button(text=_("✖ Cancel"), callback_data=ProjectCb(action=Act.cancel))
    builder.adjust(1)
    project = asdict(turn.draft)
    text = "\n".join([_("<b>Check the project</b>"), "", *project_lines(project)])
    return Question(text, markup=builder.as_markup())


STEPS: tuple[Step[ProjectDraft], ...] = (
    text_step("title", lambda: _("What is the project called? (up to 200 characters)"), MAX_TITLE),
    text_step(
        "organisations",
        lambda: _("Which organisations run it (CSOs, the City Council's departments)?"),
        MAX_ORGANISATIONS,
    ),
    Step(
        "measures",
        lambda t: Question(
            _("Which measures of the plan does it serve? Their codes, e.g. 2.1.3.")
        ),
        read=read_measures,
        pick=read_measures,
    ),
    text_step(
        "description",
        lambda: _("A short description (up to 500 characters), or skip."),
        MAX_DESCRIPTION,
        skip=Skip(""),
    ),
    Step(
        "link",
        lambda t: Question(_("A link to the project (https://…), or skip.")),
        read=lambda t, raw: parse_url(raw),
        skip=Skip(None),
    ),
    Step(
        "until",
        lambda t: Question(_("Active until which date? <code>ДД.ММ.РРРР</code>")),
        read=lambda t, raw: parse_until(raw, t.clock.today()).isoformat(),
    ),
    Step(CONFIRM, ask_summary),
)

# Short enough to be dropped at once on /cancel, without asking first.
PROJECT = Form(
    states=ProjectForm,
    draft=ProjectDraft,
    callback=ProjectCb,
    steps=STEPS,
    texts=FormTexts(
        discard_question=lambda: _("Discard this project? What you have entered will be lost."),
        discarded=lambda: _("The project was not added."),
        offer=lambda: _("You have an unfinished project. Continue it?"),
    ),
    refusal=refusal,
    ask_before_discard=False,
    command=commands.NEWPROJECT.name,
)


async def cmd_projects(message: Message, db: Database, clock: Clock) -> None:
    async with db.read() as repo:
        projects = await repo.projects.active(clock.today())
    if not projects:
        await answer(message, _("No current projects yet. Add one with /newproject."))
        return
    lines = [_("<b>Current projects</b>"), ""]
    for project in projects:
        lines += [*project_lines(project), ""]
    await answer(message, "\n".join(lines))


async def cmd_newproject(message: Message, state: FSMContext, **deps: Any) -> None:
    if await PROJECT.resume_if_open(message, state, deps):
        return
    await PROJECT.start(message, state, deps, ProjectDraft())


async def on_submit(
    query: CallbackQuery, state: FSMContext, db: Database, event_from_user: User
) -> None:
    project = (await state.get_data()).get(ProjectDraft.KEY) or {}
    await query.answer()
    if not isinstance(query.message, Message) or not all(
        project.get(k) for k in ("title", "organisations", "measures", "until")
    ):
        return
    async with db.transaction() as repo:
        project_id = await repo.projects.add(
            NewProject(
                title=project["title"],
                organisations=project["organisations"],
                measures=tuple(project["measures"]),
                description=project.get("description") or "",
                link=project.get("link"),
                active_until=date.fromisoformat(project["until"]),
                added_by=event_from_user.id,
            )
        )
    await state.clear()
    await drop_keyboard(query.message)
    await answer(
        query.message, _("✅ Project №{id} is listed in /projects.").format(id=project_id)
    )


def build_router() -> Router:
    router = Router(name=__name__)
    authors = Router(name=f"{__name__}.authors")
    guard(authors, HasRole(MEMBER, COORDINATOR))
    authors.message.register(cmd_newproject, commands.NEWPROJECT.filter)
    PROJECT.register(authors)
    authors.callback_query.register(
        on_submit, ProjectCb.filter(F.action == Act.submit), PROJECT.at(CONFIRM)
    )
    PROJECT.register_fallbacks(authors)
    guests = Router(name=f"{__name__}.guests")
    guests.message.register(on_not_member, commands.NEWPROJECT.filter)
    everyone = Router(name=f"{__name__}.everyone")
    everyone.message.register(cmd_projects, commands.PROJECTS.filter)
    router.include_routers(authors, guests, everyone)
    return router
