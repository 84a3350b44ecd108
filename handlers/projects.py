"""/projects and /newproject: current projects of CSOs and the City Council.

Projects added by members and coordinators go live at once (they are announcements, not
reports, and count towards nothing); what was added and by whom is kept in the database.
"""

from __future__ import annotations

import re
from datetime import date
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from db import Database
from db.projects import NewProject, ProjectRecord
from handlers import commands
from handlers.event_form import input_error, parse_measures
from handlers.events import on_not_member
from handlers.reply import answer, drop_keyboard
from handlers.roles import COORDINATOR, MEMBER, HasRole, guard
from plan import Plan
from plan.validation import InputError, clean_text, parse_url
from scheduler import reminders

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


class ProjectCb(CallbackData, prefix="prj"):
    action: str


_ORDER = (
    ProjectForm.title,
    ProjectForm.organisations,
    ProjectForm.measures,
    ProjectForm.description,
    ProjectForm.link,
    ProjectForm.until,
    ProjectForm.confirm,
)


def today(config: Settings) -> date:
    return reminders.current_time().astimezone(config.timezone).date()


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


def _keyboard(skip: bool = False) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if skip:
        builder.button(text=_("Skip ➡"), callback_data=ProjectCb(action="skip"))
    builder.button(text=_("✖ Cancel"), callback_data=ProjectCb(action="cancel"))
    builder.adjust(1)
    return builder.as_markup()


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


def _prompt(step: State, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    if step == ProjectForm.title:
        return _("What is the project called? (up to 200 characters)"), _keyboard()
    if step == ProjectForm.organisations:
        return _("Which organisations run it (CSOs, the City Council's departments)?"), _keyboard()
    if step == ProjectForm.measures:
        return _("Which measures of the plan does it serve? Their codes, e.g. 2.1.3."), _keyboard()
    if step == ProjectForm.description:
        return _("A short description (up to 500 characters), or skip."), _keyboard(skip=True)
    if step == ProjectForm.link:
        return _("A link to the project (https://…), or skip."), _keyboard(skip=True)
    if step == ProjectForm.until:
        return _("Active until which date? <code>ДД.ММ.РРРР</code>"), _keyboard()
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Publish"), callback_data=ProjectCb(action="submit"))
    builder.button(text=_("✖ Cancel"), callback_data=ProjectCb(action="cancel"))
    builder.adjust(1)
    text = "\n".join([_("<b>Check the project</b>"), "", *project_lines(data["project"])])
    return text, builder.as_markup()


async def _ask(message: Message, state: FSMContext, step: State, data: dict[str, Any]) -> None:
    await state.set_state(step)
    await state.set_data(data)
    await answer(message, *_prompt(step, data))


def _next(step: State) -> State:
    return _ORDER[_ORDER.index(step) + 1]


async def cmd_projects(message: Message, db: Database, config: Settings) -> None:
    async with db.read() as repo:
        projects = await repo.projects.active(today(config))
    if not projects:
        await answer(message, _("No current projects yet. Add one with /newproject."))
        return
    lines = [_("<b>Current projects</b>"), ""]
    for project in projects:
        lines += [*project_lines(project), ""]
    await answer(message, "\n".join(lines))


async def cmd_newproject(message: Message, state: FSMContext) -> None:
    await _ask(message, state, ProjectForm.title, {"project": {"measures": []}})


async def on_text(message: Message, state: FSMContext, plan: Plan, config: Settings) -> None:
    assert message.text is not None
    step = ProjectForm.title
    current = await state.get_state()
    for candidate in _ORDER:
        if candidate.state == current:
            step = candidate
    data = await state.get_data()
    project = data.setdefault("project", {})
    try:
        if step == ProjectForm.title:
            project["title"] = clean_text(message.text, limit=MAX_TITLE)
        elif step == ProjectForm.organisations:
            project["organisations"] = clean_text(message.text, limit=MAX_ORGANISATIONS)
        elif step == ProjectForm.measures:
            project["measures"] = parse_measures(message.text, plan)
        elif step == ProjectForm.description:
            project["description"] = clean_text(message.text, limit=MAX_DESCRIPTION)
        elif step == ProjectForm.link:
            project["link"] = parse_url(message.text)
        elif step == ProjectForm.until:
            project["until"] = parse_until(message.text, today(config)).isoformat()
        else:
            await answer(message, _("Please use the buttons above, or /cancel."))
            return
    except InputError as e:
        text = (
            _("That date has passed: a project listed here must still be active.")
            if e.reason == "until_past"
            else input_error(e)
        )
        await answer(message, "⚠ " + text)
        await answer(message, *_prompt(step, data))
        return
    await _ask(message, state, _next(step), data)


async def on_skip(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    current = await state.get_state()
    if current not in (ProjectForm.description.state, ProjectForm.link.state):
        return
    if not isinstance(query.message, Message):
        return
    data = await state.get_data()
    step = (
        ProjectForm.description if current == ProjectForm.description.state else ProjectForm.link
    )
    await drop_keyboard(query.message)
    await _ask(query.message, state, _next(step), data)


async def on_cancel(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    text = _("The project was not added.")
    if isinstance(event, CallbackQuery):
        await event.answer()
        if isinstance(event.message, Message):
            await drop_keyboard(event.message)
            await event.message.answer(text)
        return
    await answer(event, text)


async def on_submit(
    query: CallbackQuery, state: FSMContext, db: Database, event_from_user: User
) -> None:
    data = await state.get_data()
    project = data.get("project", {})
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
                description=project.get("description", ""),
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
    filling = StateFilter(*ProjectForm.__all_states__)
    authors.message.register(cmd_newproject, commands.NEWPROJECT.filter)
    authors.message.register(on_cancel, commands.CANCEL.filter, filling)
    authors.callback_query.register(on_cancel, ProjectCb.filter(F.action == "cancel"), filling)
    authors.callback_query.register(on_skip, ProjectCb.filter(F.action == "skip"), filling)
    authors.callback_query.register(
        on_submit, ProjectCb.filter(F.action == "submit"), StateFilter(ProjectForm.confirm)
    )
    authors.message.register(on_text, filling, F.text, ~F.text.startswith("/"))
    guests = Router(name=f"{__name__}.guests")
    guests.message.register(on_not_member, commands.NEWPROJECT.filter)
    everyone = Router(name=f"{__name__}.everyone")
    everyone.message.register(cmd_projects, commands.PROJECTS.filter)
    router.include_routers(authors, guests, everyone)
    return router
