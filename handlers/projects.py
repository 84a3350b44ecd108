"""/projects and /newproject: current projects of CSOs and the City Council.

Projects added by members and coordinators go live at once (they are announcements, not
reports, and count towards nothing); what was added and by whom is kept in the database.
A project's author and coordinators may edit it (the same form, from its summary) or remove it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject, User
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db import Database
from db.projects import NewProject, ProjectRecord
from formats.dates import long_date
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
from plan.validation import InputError, parse_url, read_date

MAX_TITLE = 200
MAX_ORGANISATIONS = 300
MAX_DESCRIPTION = 500


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


class ProjectAction(StrEnum):
    edit = "edit"
    remove = "remove"  # asks first
    remove_yes = "remove_yes"
    keep = "keep"


class ProjectManageCb(CallbackData, prefix="prjm"):
    """A button about one listed project, for its author and coordinators."""

    action: ProjectAction
    id: int


def may_manage(project: ProjectRecord, user_id: int, role: str) -> bool:
    """Who may edit or remove a project: its author and coordinators."""
    return role == COORDINATOR or project.added_by == user_id


class ManagesProject(Filter):
    """Passes when the user may manage the project the button names, and hands it over; a
    forged button from anyone else matches nothing here."""

    async def __call__(
        self,
        event: TelegramObject,
        callback_data: ProjectManageCb,
        db: Database,
        role: str,
        event_from_user: User,
        **data: Any,
    ) -> bool | dict[str, Any]:
        async with db.read() as repo:
            project = await repo.projects.get(callback_data.id)
        if project is None or not may_manage(project, event_from_user.id, role):
            return False
        return {"project": project}


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
    project_id: int | None = None  # set when a listed project is being edited


def parse_until(raw: str, first: date) -> date:
    """A typed date (read_date's forms), today or later."""
    value = read_date(raw)
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
    lines.append(
        _("<b>Active until:</b> {value}").format(value=long_date(until, get_i18n().current_locale))
    )
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
    publish = _("✅ Save") if turn.draft.project_id else _("✅ Publish")
    builder.button(text=publish, callback_data=ProjectCb(action=Act.submit))
    for text, step in (
        (_("✏ Title"), "title"),
        (_("✏ Organisations"), "organisations"),
        (_("✏ Measures"), "measures"),
        (_("✏ Description"), "description"),
        (_("✏ Link"), "link"),
        (_("✏ Active until"), "until"),
    ):
        builder.button(text=text, callback_data=ProjectCb(action=Act.edit, value=step))
    builder.button(text=_("✖ Cancel"), callback_data=ProjectCb(action=Act.cancel))
    builder.adjust(1, 2, 2, 2, 1)
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
        unfinished=lambda: _("You have an unfinished project; let us continue it."),
        offer=lambda: _("You have an unfinished project. Continue it?"),
    ),
    refusal=refusal,
    ask_before_discard=False,
    command=commands.NEWPROJECT.name,
)


async def cmd_projects(
    message: Message, db: Database, clock: Clock, role: str, event_from_user: User
) -> None:
    async with db.read() as repo:
        projects = await repo.projects.active(clock.today())
    if not projects:
        await answer(message, _("No current projects yet. Add one with /newproject."))
        return
    lines = [_("<b>Current projects</b>"), ""]
    builder = InlineKeyboardBuilder()
    for project in projects:
        block = project_lines(project)
        if may_manage(project, event_from_user.id, role):
            block[0] += f" · №{project.id}"  # the number its buttons name
            for text, action in (
                (_("✏ №{id}"), ProjectAction.edit),
                (_("🗑 №{id}"), ProjectAction.remove),
            ):
                builder.button(
                    text=text.format(id=project.id),
                    callback_data=ProjectManageCb(action=action, id=project.id),
                )
        lines += [*block, ""]
    builder.adjust(2)
    await answer(message, "\n".join(lines), builder.as_markup() if builder.buttons else None)


def _confirmation(project: ProjectRecord) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Yes, remove it"),
        callback_data=ProjectManageCb(action=ProjectAction.remove_yes, id=project.id),
    )
    builder.button(
        text=_("No, keep it"),
        callback_data=ProjectManageCb(action=ProjectAction.keep, id=project.id),
    )
    builder.adjust(1)
    text = _("Remove the project «{title}» from /projects?").format(title=escape(project.title))
    return text, builder.as_markup()


async def on_manage(
    query: CallbackQuery,
    callback_data: ProjectManageCb,
    project: ProjectRecord,
    state: FSMContext,
    db: Database,
    event_from_user: User,
    **deps: Any,
) -> None:
    """Edit (the form, opened at its summary), or remove after a confirmation."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    action = callback_data.action
    if action == ProjectAction.edit:
        draft = ProjectDraft(
            title=project.title,
            organisations=project.organisations,
            measures=list(project.measures),
            description=project.description,
            link=project.link,
            until=project.active_until.isoformat(),
            project_id=project.id,
        )
        await PROJECT.start(query.message, state, {**deps, "db": db}, draft, CONFIRM)
    elif action == ProjectAction.remove:
        await answer(query.message, *_confirmation(project))
    elif action == ProjectAction.keep:
        await query.message.edit_text(_("The project stays listed."))
    else:
        async with db.transaction() as repo:
            await repo.projects.remove(project.id, event_from_user.id)
        await query.message.edit_text(
            _("The project «{title}» was removed.").format(title=escape(project.title))
        )


async def refuse_manage(query: CallbackQuery) -> None:
    await query.answer(
        _("Only the project's author and coordinators can change it. Nothing was changed."),
        show_alert=True,
    )


async def cmd_newproject(message: Message, state: FSMContext, **deps: Any) -> None:
    if await PROJECT.resume_if_open(message, state, deps):
        return
    await PROJECT.start(message, state, deps, ProjectDraft())


async def on_submit(
    query: CallbackQuery, state: FSMContext, db: Database, role: str, event_from_user: User
) -> None:
    project = (await state.get_data()).get(ProjectDraft.KEY) or {}
    await query.answer()
    if not isinstance(query.message, Message) or not all(
        project.get(k) for k in ("title", "organisations", "measures", "until")
    ):
        return
    new = NewProject(
        title=project["title"],
        organisations=project["organisations"],
        measures=tuple(project["measures"]),
        description=project.get("description") or "",
        link=project.get("link"),
        active_until=date.fromisoformat(project["until"]),
        added_by=event_from_user.id,
    )
    editing = project.get("project_id")
    async with db.transaction() as repo:
        if editing is None:
            project_id = await repo.projects.add(new)
        else:
            # Checked again on saving: a role may have been lost while the form was open.
            old = await repo.projects.get(editing)
            saved = old is not None and may_manage(old, event_from_user.id, role)
            if saved:
                await repo.projects.update(editing, new, event_from_user.id)
    await state.clear()
    await drop_keyboard(query.message)
    if editing is None:
        text = _("✅ Project №{id} is listed in /projects.").format(id=project_id)
    elif saved:
        text = _("✅ Project №{id} is saved: see /projects.").format(id=editing)
    else:
        text = _("This project can no longer be changed. Nothing was changed.")
    await answer(query.message, text)


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
    # Each button names a project: the filter lets through only its author and coordinators.
    everyone.callback_query.register(on_manage, ProjectManageCb.filter(), ManagesProject())
    everyone.callback_query.register(refuse_manage, ProjectManageCb.filter())
    router.include_routers(authors, guests, everyone)
    return router
