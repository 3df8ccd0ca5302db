"""Forms: an answer form per question type, and the start/finish/builder forms."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, IntegerField, RadioField
from wtforms.validators import InputRequired, NumberRange

from ..types import REGISTRY
from ..types.fields import MultiCheckboxField, choices
from .cache import content_cache

if TYPE_CHECKING:
    from .fragments import QuestionView

__all__ = ["MultiCheckboxField", "choices"]


class AnswerForm(FlaskForm):
    """Base of every answer form: the version of the answer the page showed."""

    version = HiddenField(default="0")

    def seen_version(self) -> int | None:
        """The posted version, or None when it was tampered with."""
        raw = self.version.data or "0"
        # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
        return int(raw) if re.fullmatch(r"[0-9]{1,8}", raw) else None


def answer_form(
    question: QuestionView,
    order: list[str],
    formdata: Any = None,
    stored: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> AnswerForm:
    """The answer form for one question, options in the attempt's stored order."""
    # Building a form class costs more than using one; a class depends only on the
    # question's content and the option order, so the app's cache keeps it.
    key = ("form", question.id, question.content_hash, tuple(order))
    form_class = content_cache().get(
        None, key, lambda: _build_form_class(question, order)
    )
    return form_class(formdata=formdata, data=_initial(question, stored), meta=meta)


def _build_form_class(question: QuestionView, order: list[str]) -> type[AnswerForm]:
    class Form(AnswerForm):
        pass

    REGISTRY[question.type].add_fields(Form, question.data, order)
    return Form


def _initial(question: QuestionView, stored: dict[str, Any] | None) -> dict[str, Any]:
    if not stored:
        return {}
    return REGISTRY[question.type].initial(stored)


def answer_from(form: AnswerForm, question: QuestionView) -> dict[str, Any] | None:
    """The stored shape of a validated answer; None when the answer says nothing."""
    return REGISTRY[question.type].answer_from(form, question.data)


def empty_answer_message(question: QuestionView) -> str:
    """What a valid form that says nothing is told (every optional field empty)."""
    return REGISTRY[question.type].empty_message


def answer_fields(form: AnswerForm) -> list[Field]:
    """The fields a learner fills in, in order (without version and CSRF token)."""
    return [f for f in form if f.name not in ("version", "csrf_token")]


class ActionForm(FlaskForm):
    """A button-only form (start, finish, retry): it carries just the CSRF token."""


class BuilderForm(FlaskForm):
    """The quiz builder: filters, how many questions and which mode."""

    essays = MultiCheckboxField("Essays", validate_choice=True)
    tags = MultiCheckboxField("Topics", validate_choice=True)
    types = MultiCheckboxField(
        "Question types",
        choices=choices([(name, kind.label) for name, kind in REGISTRY.items()]),
    )
    count = IntegerField(
        "Number of questions",
        default=10,
        validators=[
            InputRequired("Say how many questions you want."),
            NumberRange(1, 50, "Choose between 1 and 50 questions."),
        ],
    )
    mode = RadioField(
        "Feedback",
        choices=choices(
            [
                ("practice", "After each question (practice)"),
                ("exam", "At the end (exam)"),
            ]
        ),
        default="practice",
        validators=[InputRequired("Choose when you want feedback.")],
    )
