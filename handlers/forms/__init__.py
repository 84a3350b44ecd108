"""The form engine every dialog runs on, and the refusals its readers' errors become."""

from handlers.forms.engine import (
    CANCEL,
    CONFIRM,
    STAY,
    Act,
    Form,
    FormCb,
    FormDraft,
    FormTexts,
    Question,
    ReplyKeys,
    Skip,
    Step,
    Turn,
    text_step,
)
from handlers.forms.errors import refusal

__all__ = [
    "CANCEL",
    "CONFIRM",
    "STAY",
    "Act",
    "Form",
    "FormCb",
    "FormDraft",
    "FormTexts",
    "Question",
    "ReplyKeys",
    "Skip",
    "Step",
    "Turn",
    "refusal",
    "text_step",
]
