"""The one form engine: every dialog is a declaration of its steps, run the same way.

A `Form` owns what all dialogs do alike: ask a step's question, read and store the answer or
refuse it with the reason and ask again, go on to the next step that applies, skip, edit one
answer from the summary, cancel (asking first), discard, resume after "no, continue", and pick
the dialog up again when its command is sent mid-way.

Any other command, or the main menu, leaves the dialog (`LeaveOnCommand`): the state is cleared,
so what is typed next is a search again, and the draft is kept aside (`Form.park`) until the
person returns to the form's command or opens the main menu, where it is offered back (continue,
or discard after a confirmation). A feature declares its `Step`s (question,
parser, what is stored, when the step is skipped, its buttons) and writes only what is truly its
own: how the finished draft is submitted.

The draft lives in FSM data under the form's key (the storage is the database), so a dialog
survives a restart exactly as before; the state names (`ActivityForm:date`, ...) are unchanged.

Why not aiogram's scenes: a scene is a class of handlers per state with enter/leave hooks, and
its wizard keeps its own history in FSM data. Our forms differ only in their declarations, and
their drafts and state names are already stored in people's open dialogs; a small wizard keeps
both as they are and needs no per-state classes.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from aiogram import BaseMiddleware, F, Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    TelegramObject,
)
from aiogram.utils.i18n import gettext as _
from magic_filter import MagicFilter

from handlers import commands
from handlers.callbacks import MenuAction, MenuCb
from handlers.dialog import enter
from handlers.keyboards import button, column, grid
from handlers.reply import answer, drop_keyboard, shorten
from handlers.routing import TYPED, Inline
from plan.validation import InputError, clean_text

CONFIRM = "confirm"  # every form ends with its summary, a step of this name
CANCEL = "cancel"  # the state "discard what you entered?" waits in


class Act(StrEnum):
    """What a dialog button does; the engine handles all but `submit`, which is the form's."""

    cancel = "cancel"
    discard = "discard"
    resume = "resume"
    skip = "skip"
    edit = "edit"
    pick = "pick"  # answers the current step with `value`
    submit = "submit"


class FormCb(CallbackData, prefix="form"):
    """A dialog's button; each form subclasses it with a prefix of its own."""

    action: Act
    value: str = ""


class Kept(StrEnum):
    """What the offer of a kept draft does."""

    resume = "resume"
    discard = "discard"  # asks first
    drop = "drop"  # confirmed: the draft is forgotten


class KeptCb(CallbackData, prefix="kept"):
    """A button of the offer to continue a form left mid-way; `slot` names the kept draft."""

    action: Kept
    slot: str


KEPT = "kept"
"""The storage destiny where drafts of left forms wait, apart from the dialog's own data (so
another dialog's state.clear() cannot lose them)."""


@dataclass
class FormDraft:
    """A draft as kept in FSM data: JSON-friendly fields, and whether an answer is being edited
    from the summary (then the dialog returns to the summary, not to the next question)."""

    KEY: ClassVar[str] = "draft"  # where in FSM data the draft is kept

    editing: bool = False

    @classmethod
    def load(cls, data: dict[str, Any]) -> Any:
        """The draft kept in a dialog's FSM data (unknown fields of an older draft ignored)."""
        fields = {f.name for f in dataclasses.fields(cls)}
        known = {k: v for k, v in dict(data.get(cls.KEY) or {}).items() if k in fields}
        return cls(**known)

    def dump(self) -> dict[str, Any]:
        """The draft as FSM data, to be merged into the rest of it."""
        return {self.KEY: dataclasses.asdict(self)}


D = TypeVar("D", bound=FormDraft)

STAY = object()
"""What a reader returns when it answered itself (offered choices, say): the step stays."""


@dataclass
class Question:
    """What a step shows: text, and either buttons that answer it or a keyboard of its own."""

    text: str
    buttons: Sequence[tuple[str, str]] = ()  # (label, value picked)
    markup: InlineKeyboardMarkup | None = None  # the summary, a checklist


@dataclass
class Turn(Generic[D]):
    """One update inside a form: the draft, the rest of the FSM data and the injected services."""

    form: Form[D]
    state: FSMContext
    message: Message  # where questions and refusals go
    data: dict[str, Any]
    draft: D
    deps: dict[str, Any]
    pressed: bool = False  # the answer came from a button, not typed

    def __getattr__(self, name: str) -> Any:
        # The dispatcher's services by name (turn.plan, turn.clock, turn.db, ...).
        deps = self.__dict__.get("deps", {})
        if name in deps:
            return deps[name]
        raise AttributeError(name)


Reader = Callable[[Turn[Any], str], Any]
"""Reads an answer into the value to store; raises InputError to refuse it, may be async,
returns STAY when it answered itself."""
Storer = Callable[[Turn[Any], Any], Any]


def _always(turn: Turn[Any]) -> bool:
    return True


def _never(draft: Any) -> bool:
    return False


@dataclass(frozen=True)
class Skip:
    """A step that may be skipped: what is stored then, and the button's label (default «Skip»)."""

    value: Any = None
    label: Callable[[], str] | None = None


@dataclass(frozen=True)
class ReplyKeys:
    """Telegram's own answer buttons under the input field (the contact button, say).

    The step's question carries this keyboard instead of its inline buttons (a message has one
    keyboard), typing stays possible, and once an answer is stored the keyboard is removed with
    `taken(value)`, a short acknowledgement of it.
    """

    markup: Callable[[], ReplyKeyboardMarkup]
    taken: Callable[[Any], str]


@dataclass(frozen=True)
class Step(Generic[D]):
    """One question of a form.

    `ask` builds the question; `read` turns a typed answer (and `pick` the value of one of the
    question's buttons) into the value `store` keeps (by default the draft field named like
    the step). `applies` says whether the step is asked at all; after an answer is edited from
    the summary, later steps are asked again only where `missing` says so. `then` fixes the step
    that always follows; `accepts` which messages answer it.
    """

    name: str
    ask: Callable[[Turn[D]], Question]
    read: Reader | None = None
    pick: Reader | None = None
    store: Storer | None = None
    accepts: MagicFilter = field(default_factory=lambda: F.text)
    applies: Callable[[Turn[D]], bool] = _always
    missing: Callable[[D], bool] = _never
    skip: Skip | None = None
    then: str | None = None
    reply: ReplyKeys | None = None


def text_step(
    name: str, question: Callable[[], str], limit: int, skip: Skip | None = None
) -> Step[Any]:
    """The commonest step: a question answered by a text of at most `limit` characters."""
    return Step(
        name,
        lambda turn: Question(question()),
        read=lambda turn, raw: clean_text(raw, limit=limit),
        skip=skip,
    )


async def _maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def use_the_buttons(step: str) -> str:
    """Said to a message the step (named) cannot take: at the summary, its buttons are meant."""
    if step == CONFIRM:
        return _("Please use the buttons above, or /cancel.")
    return _("I expected something else here.")


@dataclass
class FormTexts:
    """What a form says in its own words (each a function: the locale is the reader's)."""

    discard_question: Callable[[], str]
    discarded: Callable[[], str]
    unexpected: Callable[[str], str] = use_the_buttons  # a message the step (named) cannot take
    unfinished: Callable[[], str] | None = None  # said when its command resumes the dialog
    offer: Callable[[], str] = lambda: _("You have an unfinished form. Continue it?")
    """Asked when the person comes back to a form they left (its command, the main menu)."""


@dataclass
class Form(Generic[D]):
    """A dialog: its states, its draft, its steps in order (the summary last) and its words.

    `ask_before_discard` is False for a dialog short enough to be dropped at once on cancel.
    `command` is the form's own command: sent mid-way it resumes the dialog instead of leaving.
    """

    states: type[StatesGroup]
    draft: type[D]
    callback: type[FormCb]
    steps: Sequence[Step[D]]
    texts: FormTexts
    refusal: Callable[[InputError], str]
    ask_before_discard: bool = True
    command: str | None = None
    by_name: dict[str, Step[D]] = field(init=False)

    RESUME: ClassVar[str] = "resume"  # FSM data key: the step to go back to after "no"
    # Every form declared, by the name of its states group. Forms are declared once, at import,
    # like aiogram's StatesGroups: the engine needs all of them to leave whichever one is open.
    declared: ClassVar[dict[str, Form[Any]]] = {}

    def __post_init__(self) -> None:
        self.by_name = {s.name: s for s in self.steps}
        if CONFIRM not in self.by_name:
            raise ValueError(f"{self.states.__name__} has no summary step")
        Form.declared[self.name] = self

    @property
    def name(self) -> str:
        return self.states.__name__

    @classmethod
    def open_at(cls, raw_state: str | None) -> Form[Any] | None:
        """The form a stored state string belongs to (its steps or its cancel question)."""
        group, _sep, _name = str(raw_state).partition(":")
        return cls.declared.get(group)

    # --- states ---------------------------------------------------------------------------

    def state_of(self, name: str) -> State:
        state = getattr(self.states, name)
        assert isinstance(state, State)
        return state

    def step_at(self, raw_state: str | None) -> Step[D] | None:
        """The step a stored state string names, if it is one of this form's."""
        group, _sep, name = str(raw_state).partition(":")
        return self.by_name.get(name) if group == self.states.__name__ else None

    def at(self, name: str) -> StateFilter:
        return StateFilter(self.state_of(name))

    def filling(self) -> StateFilter:
        return StateFilter(*[self.state_of(s.name) for s in self.steps])

    def cancelling(self) -> StateFilter:
        return StateFilter(self.state_of(CANCEL))

    # --- the draft --------------------------------------------------------------------------

    async def turn(
        self, state: FSMContext, message: Message, deps: dict[str, Any], pressed: bool = False
    ) -> Turn[D]:
        data = await state.get_data()
        return Turn(self, state, message, data, self.draft.load(data), deps, pressed)

    def button(self, action: Act, value: str = "") -> FormCb:
        return self.callback(action=action, value=value)

    def keyboard(self, step: Step[D], question: Question) -> InlineKeyboardMarkup:
        if question.markup is not None:
            return question.markup
        # Labels are plain text (a title, a name someone typed): cut, never escaped.
        buttons = [
            button(shorten(label), self.button(Act.pick, value))
            for label, value in question.buttons
        ]
        if step.skip is not None:
            label = step.skip.label() if step.skip.label else _("Skip ➡")
            buttons.append(button(label, self.button(Act.skip)))
        buttons.append(button(_("✖ Cancel"), self.button(Act.cancel)))
        return column(buttons)

    def question(self, turn: Turn[D], step: Step[D]) -> tuple[str, InlineKeyboardMarkup]:
        asked = step.ask(turn)
        return asked.text, self.keyboard(step, asked)

    # --- asking and advancing ---------------------------------------------------------------

    async def ask(self, turn: Turn[D], name: str) -> None:
        """Store the draft, move to the step and ask its question."""
        step = self.by_name[name]
        turn.data.update(turn.draft.dump())
        turn.data.pop(self.RESUME, None)
        await enter(turn.state, self.state_of(name), turn.data)
        await self._put(turn, step)

    async def repeat(self, turn: Turn[D], step: Step[D]) -> None:
        """Ask the current question again, nothing stored."""
        await self._put(turn, step)

    async def _put(self, turn: Turn[D], step: Step[D]) -> None:
        """Send the step's question with its inline buttons, or with its reply keyboard."""
        if step.reply is None:
            await answer(turn.message, *self.question(turn, step))
        else:
            asked = step.ask(turn)
            await turn.message.answer(asked.text, reply_markup=step.reply.markup())

    def next_step(self, turn: Turn[D], after: str) -> str:
        """The step after `after`: a fixed follower, else the next that applies; while editing
        from the summary only a later step the edit left unanswered, else the summary."""
        step = self.by_name[after]
        if step.then is not None:
            return step.then
        index = [s.name for s in self.steps].index(after)
        for candidate in self.steps[index + 1 :]:
            if candidate.name == CONFIRM or not candidate.applies(turn):
                continue
            if not turn.draft.editing or candidate.missing(turn.draft):
                return candidate.name
        return CONFIRM

    async def advance(self, turn: Turn[D], after: str) -> None:
        name = self.next_step(turn, after)
        if name == CONFIRM:
            turn.draft.editing = False
        await self.ask(turn, name)

    async def accept(self, turn: Turn[D], step: Step[D], value: Any) -> None:
        """Store an answer the step's reader gave and go on."""
        if step.store is not None:
            await _maybe(step.store(turn, value))
        else:
            setattr(turn.draft, step.name, value)
        if step.reply is not None:
            await turn.message.answer(step.reply.taken(value), reply_markup=ReplyKeyboardRemove())
        await self.advance(turn, step.name)

    async def refuse(self, turn: Turn[D], step: Step[D], error: InputError) -> None:
        """Say what was wrong and ask the same question again; nothing entered so far is lost."""
        await answer(turn.message, "⚠ " + self.refusal(error))
        await self.repeat(turn, step)

    async def start(
        self,
        message: Message,
        state: FSMContext,
        deps: dict[str, Any],
        draft: D,
        step: str | None = None,
        **extra: Any,
    ) -> None:
        """Open the form with `draft` (a blank or a pre-filled one) at `step` (the first);
        a form open until now is kept aside, not overwritten."""
        await leave(state)
        turn = Turn(self, state, message, dict(extra), draft, deps)
        await self.ask(turn, step or self.steps[0].name)

    async def resume_if_open(
        self, message: Message, state: FSMContext, deps: dict[str, Any]
    ) -> bool:
        """On the form's command: mid-way, say so and ask the current question again; after
        the person left the form, offer its kept draft back. False when there is neither."""
        step = self.step_at(await state.get_state())
        if step is not None and self.texts.unfinished is not None:
            await answer(message, self.texts.unfinished())
            await self.repeat(await self.turn(state, message, deps), step)
            return True
        return await self.offer(message, state)

    # --- leaving and coming back --------------------------------------------------------------

    async def park(self, state: FSMContext, raw_state: str) -> None:
        """Keep the open dialog's draft aside, at the step it was at, and clear the state."""
        data = await state.get_data()
        if self.step_at(raw_state) is None:  # at "discard what you entered?": back to the step
            raw_state = str(data.get(self.RESUME) or self.state_of(self.steps[0].name).state)
        data.pop(self.RESUME, None)
        drafts = _kept(state)
        kept = await drafts.get_data()
        slot, n = self.name, 1
        while slot in kept:  # a second draft of the form never overwrites the first
            n += 1
            slot = f"{self.name}.{n}"
        kept[slot] = {"state": raw_state, "data": data}
        await drafts.set_data(kept)
        await state.clear()

    def owns(self, slot: str) -> bool:
        """Whether a kept draft's slot (the form's name, then a number from the second on) is
        this form's."""
        return slot.partition(".")[0] == self.name

    async def kept(self, state: FSMContext) -> list[str]:
        """The slots of this form's drafts kept when the person left it, oldest first."""
        return [slot for slot in await _kept(state).get_data() if self.owns(slot)]

    async def forget_kept(self, state: FSMContext, slot: str) -> None:
        drafts = _kept(state)
        kept = await drafts.get_data()
        if kept.pop(slot, None) is not None:
            await drafts.set_data(kept)

    def _kept_keyboard(self, slot: str, *buttons: tuple[str, Kept]) -> InlineKeyboardMarkup:
        kept = [button(text, KeptCb(action=action, slot=slot)) for text, action in buttons]
        return grid(kept, 8)

    async def offer(self, message: Message, state: FSMContext, slot: str | None = None) -> bool:
        """Ask whether to continue a kept draft (`slot`, else each of this form's), if any."""
        slots = [slot] if slot is not None else await self.kept(state)
        for each in slots:
            keyboard = self._kept_keyboard(
                each, (_("▶ Continue"), Kept.resume), (_("🗑 Discard"), Kept.discard)
            )
            await answer(message, self.texts.offer(), keyboard)
        return bool(slots)

    async def on_kept(
        self, query: CallbackQuery, callback_data: KeptCb, state: FSMContext, **deps: Any
    ) -> None:
        """The offer's buttons: continue where the person left off, or discard (asking first)."""
        slot = callback_data.slot
        kept = (await _kept(state).get_data()).get(slot)
        if not isinstance(kept, dict) or not isinstance(query.message, Message):
            await query.answer(_("There is nothing to continue."), show_alert=True)
            if isinstance(query.message, Message):
                await drop_keyboard(query.message)
            return
        await query.answer()
        if callback_data.action == Kept.discard:
            keyboard = self._kept_keyboard(
                slot, (_("Yes, discard it"), Kept.drop), (_("No, continue"), Kept.resume)
            )
            await query.message.edit_text(self.texts.discard_question(), reply_markup=keyboard)
            return
        if callback_data.action == Kept.drop:
            await self.forget_kept(state, slot)
            await query.message.edit_text(self.texts.discarded())
            return
        await leave(state)  # a dialog opened since is kept aside in its turn
        await self.forget_kept(state, slot)
        await enter(state, kept["state"], kept["data"])
        await drop_keyboard(query.message)
        step = self.step_at(kept["state"]) or self.steps[0]
        await self.repeat(await self.turn(state, query.message, deps, pressed=True), step)

    # --- the handlers -----------------------------------------------------------------------

    async def _read(self, turn: Turn[D], step: Step[D], reader: Reader, raw: str) -> None:
        try:
            value = await _maybe(reader(turn, raw))
        except InputError as e:
            await self.refuse(turn, step, e)
            return
        if value is not STAY:
            await self.accept(turn, step, value)

    async def on_answer(self, message: Message, state: FSMContext, **deps: Any) -> None:
        turn = await self.turn(state, message, deps)
        step = self.step_at(await state.get_state())
        if step is None or step.read is None:
            await self.on_unexpected(message, state, **deps)
            return
        await self._read(turn, step, step.read, message.text or "")

    async def on_pick(
        self, query: CallbackQuery, callback_data: FormCb, state: FSMContext, **deps: Any
    ) -> None:
        await query.answer()
        step = self.step_at(await state.get_state())
        # Only a step that offers buttons takes one: an old keyboard's press is ignored.
        reader = None if step is None else step.pick
        if step is None or reader is None or not isinstance(query.message, Message):
            return
        await drop_keyboard(query.message)
        turn = await self.turn(state, query.message, deps, pressed=True)
        await self._read(turn, step, reader, callback_data.value)

    async def on_skip(self, query: CallbackQuery, state: FSMContext, **deps: Any) -> None:
        await query.answer()
        step = self.step_at(await state.get_state())
        if step is None or step.skip is None or not isinstance(query.message, Message):
            return
        await drop_keyboard(query.message)
        turn = await self.turn(state, query.message, deps, pressed=True)
        await self.accept(turn, step, step.skip.value)

    async def on_edit(
        self, query: CallbackQuery, callback_data: FormCb, state: FSMContext, **deps: Any
    ) -> None:
        await query.answer()
        step = self.by_name.get(callback_data.value)
        if step is None or step.name == CONFIRM or not isinstance(query.message, Message):
            return
        turn = await self.turn(state, query.message, deps, pressed=True)
        turn.draft.editing = True
        await drop_keyboard(query.message)
        await self.ask(turn, step.name)

    async def on_unexpected(self, message: Message, state: FSMContext, **deps: Any) -> None:
        """A sticker where a date was asked, say: explain and ask again."""
        step = self.step_at(await state.get_state())
        if step is None:
            return
        await answer(message, self.texts.unexpected(step.name))
        await self.repeat(await self.turn(state, message, deps), step)

    def _discard_question(self) -> tuple[str, InlineKeyboardMarkup]:
        keyboard = grid(
            [
                button(_("Yes, discard it"), self.button(Act.discard)),
                button(_("No, continue"), self.button(Act.resume)),
            ],
            2,
        )
        return self.texts.discard_question(), keyboard

    async def on_cancel(self, event: Message | CallbackQuery, state: FSMContext) -> None:
        """Remember the step the dialog was at, then ask before anything entered is lost."""
        message = event.message if isinstance(event, CallbackQuery) else event
        if isinstance(event, CallbackQuery):
            await event.answer()
        if not self.ask_before_discard:
            step = self.step_at(await state.get_state())
            await state.clear()
            if isinstance(message, Message):
                if isinstance(event, CallbackQuery):
                    await drop_keyboard(message)
                await self._say_discarded(message, step, edit=False)
            return
        data = await state.get_data()
        data[self.RESUME] = await state.get_state()
        await enter(state, self.state_of(CANCEL), data)
        if isinstance(message, Message):
            await answer(message, *self._discard_question())

    async def on_still_cancelling(self, message: Message) -> None:
        await answer(message, *self._discard_question())

    async def on_discard(self, query: CallbackQuery, state: FSMContext) -> None:
        """Forget the dialog and say that nothing was sent."""
        step = self.step_at((await state.get_data()).get(self.RESUME))
        await state.clear()
        await query.answer()
        if isinstance(query.message, Message):
            await self._say_discarded(query.message, step, edit=True)

    async def _say_discarded(self, message: Message, step: Step[D] | None, edit: bool) -> None:
        """Say the dialog is discarded; a step's reply keyboard (the contact button) goes too.

        Telegram keeps a reply keyboard under the input field until a sent message removes it,
        and an edited message cannot: then the question loses its buttons and a new message
        says it.
        """
        if step is None or step.reply is None:
            if edit:
                await message.edit_text(self.texts.discarded())
            else:
                await answer(message, self.texts.discarded())
            return
        if edit:
            await drop_keyboard(message)
        await message.answer(self.texts.discarded(), reply_markup=ReplyKeyboardRemove())

    async def on_resume(self, query: CallbackQuery, state: FSMContext, **deps: Any) -> None:
        await query.answer()
        if not isinstance(query.message, Message):
            return
        turn = await self.turn(state, query.message, deps, pressed=True)
        resumed = self.step_at(turn.data.get(self.RESUME)) or self.steps[0]
        await drop_keyboard(query.message)
        await self.ask(turn, resumed.name)

    def register(self, router: Router) -> None:
        """Attach the engine's handlers to a feature's (already guarded) router.

        Register the feature's own handlers for the form's states (its submit) before or after:
        the engine's catch-alls are filtered by state and come last in `register_fallbacks`.
        """
        cb, filling = self.callback, self.filling()
        typed = TYPED  # commands still work inside a dialog
        router.message.register(self.on_cancel, commands.CANCEL.filter, filling)
        router.callback_query.register(self.on_cancel, cb.filter(F.action == Act.cancel), filling)
        if self.ask_before_discard:
            cancelling = self.cancelling()
            router.callback_query.register(
                self.on_discard, cb.filter(F.action == Act.discard), cancelling
            )
            router.callback_query.register(
                self.on_resume, cb.filter(F.action == Act.resume), cancelling
            )
        for step in self.steps:
            if step.read is not None:
                router.message.register(
                    self.on_answer,
                    StateFilter(self.state_of(step.name)),
                    Inline(step.accepts),
                    typed,
                )
        router.callback_query.register(self.on_pick, cb.filter(F.action == Act.pick), filling)
        router.callback_query.register(self.on_skip, cb.filter(F.action == Act.skip), filling)
        router.callback_query.register(
            self.on_edit, cb.filter(F.action == Act.edit), StateFilter(self.state_of(CONFIRM))
        )
        router.callback_query.register(self.on_kept, KeptCb.filter(F.slot.func(self.owns)))

    def register_fallbacks(self, router: Router) -> None:
        """Anything else typed inside the dialog gets the question again (register last)."""
        typed = TYPED
        router.message.register(self.on_unexpected, self.filling(), typed)
        if self.ask_before_discard:
            router.message.register(self.on_still_cancelling, self.cancelling(), typed)


# --- leaving a form, whichever it is ---------------------------------------------------------


def _kept(state: FSMContext) -> FSMContext:
    return FSMContext(state.storage, dataclasses.replace(state.key, destiny=KEPT))


async def leave(state: FSMContext) -> None:
    """Leave the open dialog: a form's draft is kept aside, any other dialog just ends."""
    raw_state = await state.get_state()
    if raw_state is None:
        return
    form = Form.open_at(raw_state)
    if form is not None:
        await form.park(state, raw_state)
    else:
        await state.clear()


async def offer_kept(message: Message, state: FSMContext) -> None:
    """Offer back every form the person left mid-way (the main menu does)."""
    for slot in await _kept(state).get_data():
        form = Form.declared.get(slot.partition(".")[0])
        if form is not None:
            await form.offer(message, state, slot)


def _command(text: str) -> str:
    return text[1:].split(maxsplit=1)[0].partition("@")[0].lower() if len(text) > 1 else ""


class LeaveOnCommand(BaseMiddleware):
    """Any command (but /cancel, and the open form's own), or the main menu, leaves the dialog.

    An outer middleware above every feature's router, so that the update's handlers, filtered
    by state, already see no dialog: the start screen's invitation to search is then true.
    """

    def leaves(self, event: TelegramObject, raw_state: str) -> bool:
        if isinstance(event, CallbackQuery):
            return event.data == MenuCb(action=MenuAction.main).pack()
        if not isinstance(event, Message) or not (event.text or "").startswith("/"):
            return False
        command = _command(event.text or "")
        if command == commands.CANCEL.name:
            return False
        form = Form.open_at(raw_state)
        return form is None or form.command != command

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        state: FSMContext | None = data.get("state")
        raw_state = data.get("raw_state")
        if state is not None and raw_state is not None and self.leaves(event, raw_state):
            await leave(state)
            data["raw_state"] = None
        return await handler(event, data)


def leave_on_commands(router: Router) -> None:
    """Install the rule on the router above every feature's (messages and buttons alike)."""
    middleware = LeaveOnCommand()
    router.message.outer_middleware(middleware)
    router.callback_query.outer_middleware(middleware)
