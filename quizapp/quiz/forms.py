"""Forms: an answer form per question type, and the start/finish/builder forms."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

from flask_wtf import FlaskForm
from wtforms import (
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from ..content.schema import TYPES
from .cache import content_cache

if TYPE_CHECKING:
    from .fragments import QuestionView

MAX_ANSWER_LENGTH = 200


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes (select all that apply)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _no_control_chars(_form: FlaskForm, field: Field) -> None:
    values = field.data if isinstance(field.data, list) else [field.data]
    for value in values:
        if isinstance(value, str) and any(
            unicodedata.category(c) == "Cc" and c != "\t" for c in value
        ):
            raise ValidationError("Remove the control characters from your answer.")


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

    qtype = question.type
    data = question.data
    if qtype in ("single_choice", "true_false", "multiple_response"):
        texts = {o["id"]: o["text"] for o in data["options"]}
        options = choices([(oid, texts[oid]) for oid in order if oid in texts])
        if qtype == "multiple_response":
            Form.answer = MultiCheckboxField(
                "Select all that apply",
                choices=options,
                validators=[InputRequired("Choose at least one option.")],
            )
        else:
            Form.answer = RadioField(
                "Choose one answer",
                choices=options,
                validators=[InputRequired("Choose one of the options.")],
            )
    elif qtype == "short_answer":
        Form.answer = StringField(
            "Your answer",
            validators=[
                InputRequired("Type your answer."),
                Length(max=MAX_ANSWER_LENGTH),
                _no_control_chars,
            ],
        )
    elif qtype == "cloze":
        for index in range(len(data["blanks"])):
            setattr(
                Form,
                f"blank_{index + 1}",
                StringField(
                    f"Blank {index + 1}",
                    validators=[
                        Optional(),
                        Length(max=MAX_ANSWER_LENGTH),
                        _no_control_chars,
                    ],
                ),
            )
    elif qtype == "matching":
        rights = right_hand_answers(data)
        targets = choices(
            [("", "Choose a match")] + [(r, rights[r]) for r in order if r in rights]
        )
        for pair in data["pairs"]:
            setattr(
                Form,
                f"match_{pair['id']}",
                SelectField(
                    pair["left"],
                    choices=targets,
                    validators=[InputRequired(f"Choose a match for “{pair['left']}”.")],
                ),
            )
    return Form


def right_hand_answers(data: dict[str, Any]) -> dict[str, str]:
    """A matching question's right-hand answers by id: every pair's, then the spares."""
    rights = {p["right_id"]: p["right"] for p in data["pairs"]}
    rights.update((spare["id"], spare["text"]) for spare in data.get("spares", []))
    return rights


def _initial(question: QuestionView, stored: dict[str, Any] | None) -> dict[str, Any]:
    if not stored:
        return {}
    if question.type in ("single_choice", "true_false"):
        return {"answer": stored.get("choice")}
    if question.type == "multiple_response":
        return {"answer": stored.get("choices", [])}
    if question.type == "short_answer":
        return {"answer": stored.get("text", "")}
    if question.type == "cloze":
        return {f"blank_{i + 1}": t for i, t in enumerate(stored.get("blanks", []))}
    return {f"match_{k}": v for k, v in stored.get("pairs", {}).items()}


def answer_from(form: AnswerForm, question: QuestionView) -> dict[str, Any] | None:
    """The stored shape of a validated answer; None when the answer says nothing."""
    qtype = question.type
    if qtype in ("single_choice", "true_false"):
        return {"choice": form.answer.data}
    if qtype == "multiple_response":
        return {"choices": sorted(set(form.answer.data))}
    if qtype == "short_answer":
        return {"text": form.answer.data.strip()}
    if qtype == "cloze":
        blanks = [
            (form[f"blank_{i + 1}"].data or "").strip()
            for i in range(len(question.data["blanks"]))
        ]
        return {"blanks": blanks} if any(blanks) else None
    return {
        "pairs": {
            p["id"]: form[f"match_{p['id']}"].data for p in question.data["pairs"]
        }
    }


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
        choices=choices([(t, t.replace("_", " ").capitalize()) for t in TYPES]),
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
