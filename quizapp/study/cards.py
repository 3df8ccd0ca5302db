"""The one seam to the quiz package: showing, grading and reviewing a question.

Study mode shows a question as practice mode does (the same fields, the same
feedback and source passage). Everything it borrows from quizapp.quiz and
quizapp.grading is called through here, so the web layer can move underneath
without study mode changing.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime
from typing import Any

from markupsafe import Markup

from ..grading import Verdict, grade
from ..models import Attempt, as_utc
from ..quiz import fragments
from ..quiz.attempts import load_attempt, missed_question_ids
from ..quiz.forms import AnswerForm, answer_fields, answer_form, answer_from
from ..quiz.learners import get_or_create_learner
from ..quiz.pages import version_stamp
from ..types import REGISTRY

QuestionView = fragments.QuestionView

__all__ = [
    "AnswerForm",
    "QuestionView",
    "answer_fields",
    "answer_fields_html",
    "answer_form",
    "answer_from",
    "content_stamp",
    "ensure_learner",
    "fields_html",
    "grade_answer",
    "missed_in_attempt",
    "option_order",
    "question",
    "revealed_html",
]


def content_stamp(version: int | None, loaded_at: datetime | None) -> str:
    """The content version string the quiz's caches key on.

    The quiz's fast reads hand back a naive SQLite time as UTC and keep an aware
    one as it is; the same rule here gives the same string, so study pages share
    the quiz's caches instead of evicting them.
    """
    return version_stamp(version, None if loaded_at is None else as_utc(loaded_at))


def question(version: str, question_id: str) -> QuestionView | None:
    """The question as pages show and grade it (from the content cache)."""
    return fragments.question(version, question_id)


def option_order(learner_id: str, view: QuestionView, reps: int) -> list[str]:
    """The order of a question's options for this learner and review.

    Shuffled like an attempt's, but derived from (learner, question, review count),
    so the page and the post that grades it agree without storing anything.
    """
    seed = hashlib.sha256(f"{learner_id}:{view.id}:{reps}".encode()).digest()
    # A display order, not a secret: a seeded generator keeps it reproducible.
    rng = random.Random(seed)  # noqa: S311  # nosec B311
    return REGISTRY[view.type].option_order(view.data, rng)


def answer_fields_html(version: str, view: QuestionView, order: list[str]) -> Markup:
    """The empty answer fields, as the practice question page renders them."""
    return fragments.answer_fields_html(version, view, order)


def fields_html(view: QuestionView, order: list[str], form: AnswerForm) -> Markup:
    """The answer fields filled from a posted form, with its errors."""
    return fragments.fields_html(view, order, form)


def revealed_html(
    version: str, view: QuestionView, order: list[str], answer: dict[str, Any]
) -> Markup:
    """The question with the full review of an answer: verdict, key, why, source."""
    return fragments.revealed_html(version, view, order, answer)


def grade_answer(view: QuestionView, answer: dict[str, Any]) -> Verdict:
    """The verdict on an answer, by the quiz's grading rules."""
    return grade(view.type, view.data, answer)


def ensure_learner(learner_id: str) -> None:
    """Create the learner row on a first write (as the quiz does)."""
    get_or_create_learner(learner_id)


def missed_in_attempt(attempt_id: str, learner_id: str | None) -> list[str] | None:
    """The questions missed in the learner's finished attempt; None if not theirs."""
    attempt: Attempt | None = load_attempt(attempt_id, learner_id)
    if attempt is None or not attempt.finished:
        return None
    return missed_question_ids(attempt)
