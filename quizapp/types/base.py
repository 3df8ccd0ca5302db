"""What every question type provides, and the small shapes the types share.

A question type is one class here (a subclass of QuestionType) with one instance in
the registry (`quizapp.types.REGISTRY`). It owns the whole life of its questions:
the content schema of its data, its lint rules, its answer form, the per-attempt
order of its options, the pure grading function, the review lines, the template
partials that show it and its Anki mapping. Nothing in this package imports
Flask, the database or the other stages: they import it.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from wtforms import Form

    from ..content.schema import Checker, QuestionDoc
    from ..content.yamlio import Mapping
    from .cards import NoteType

Data = dict[str, Any]
Answer = dict[str, Any]
# warn(code, message, line=0) and fail(message, line=0), as lint_question passes them.
Warn = Callable[..., None]
Fail = Callable[..., None]


@dataclass(frozen=True)
class Typo:
    """A typed answer accepted despite a small typo, so the learner can be told."""

    part: int  # the blank's index (its text box), 0 for a short answer
    typed: str  # what the learner typed, trimmed
    accepted: str  # the accepted answer it was matched to, as the content writes it


@dataclass(frozen=True)
class Verdict:
    """A graded response: score in [0, 1], and per-part results where parts exist."""

    score: float
    parts: list[bool] = field(default_factory=list)
    typos: tuple[Typo, ...] = ()

    @property
    def correct(self) -> bool:
        """Full marks."""
        return self.score >= 1.0

    @property
    def label(self) -> str:
        """Correct, partly correct or incorrect, as the learner reads it."""
        if self.correct:
            return "Correct"
        return "Partly correct" if self.score > 0 else "Incorrect"


@dataclass(frozen=True)
class Line:
    """One row of the answer review: a choice, blank, pair or item and how it fared."""

    text: str
    chosen: str = ""
    correct: bool = False
    key: str = ""
    feedback: str | None = None
    typo: str = ""  # "Accepted: you typed ..., the answer is ..."


def opaque_id(question_id: str, kind: str, text: str) -> str:
    """A stable id for an option or item that reveals nothing about the key."""
    digest = hashlib.blake2s(f"{question_id}\0{kind}\0{text}".encode(), digest_size=5)
    return digest.hexdigest()


def fold(text: str) -> str:
    """Case and whitespace folded, as the duplicate checks compare text."""
    return re.sub(r"\s+", " ", text).strip().casefold()


def yaml_kind(value: Any) -> str:
    """How an error message names the YAML kind of a value."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def typo_note(typo: Typo) -> str:
    """The line a review shows under a typed answer accepted with a typo."""
    return f"Accepted: you typed “{typo.typed}”, the answer is “{typo.accepted}”."


class QuestionType:
    """One question type: every hook the app calls, with the common defaults."""

    name: ClassVar[str]
    # What the quiz builder's type filter shows.
    label: ClassVar[str]
    # The type's own YAML keys beside the common ones, and which may be left out.
    keys: ClassVar[frozenset[str]] = frozenset()
    optional_keys: ClassVar[frozenset[str]] = frozenset()
    # A type whose text carries the question (cloze) may leave out `prompt`.
    prompt_required: ClassVar[bool] = True
    default_prompt: ClassVar[str] = ""
    # stem-incomplete: a true/false prompt is a statement ending in '.'.
    checks_stem: ClassVar[bool] = True
    statement_stem: ClassVar[bool] = False
    # Template partials (templates/quiz/types/): the answer fields, the review
    # lines inside the feedback block, and what the answered page shows above them.
    fields_template: ClassVar[str]
    review_template: ClassVar[str] = "quiz/types/_table_review.html"
    review_headings: ClassVar[tuple[str, str, str]] = (
        "Part",
        "Your answer",
        "Correct answer",
    )
    revealed_template: ClassVar[str | None] = None
    # Shown when a valid form says nothing (every optional field left empty).
    empty_message: ClassVar[str] = "Give an answer."
    # The lint codes (warnings) of this type's rules, for `lint_ignore`.
    lint_codes: ClassVar[tuple[str, ...]] = ()
    # Anki: the note types this type's notes use, and CSS its cards need.
    note_types: ClassVar[tuple[NoteType, ...]] = ()
    card_css: ClassVar[str] = ""

    # -- content ------------------------------------------------------------------

    def read(self, check: Checker, item: Mapping, qid: str) -> Data | None:
        """The stored answer data of one question, or None after reporting errors."""
        raise NotImplementedError

    def lint(self, q: QuestionDoc, warn: Warn, fail: Fail) -> None:
        """This type's item-writing rules for one question (CONTENT.md)."""

    def lint_bank(self, questions: list[QuestionDoc]) -> list[tuple[str, str]]:
        """This type's bank-wide rules: (code, message) for each one broken."""
        return []

    def texts(self, data: Data) -> list[tuple[str, str]]:
        """Authored text beside the prompt, as (YAML key, text), for text rules."""
        return []

    def case_items(self, data: Data) -> list[str]:
        """The options or items that may each describe a case (bloom-scenario)."""
        return []

    # -- the attempt and its form -------------------------------------------------

    def option_order(self, data: Data, rng: random.Random) -> list[str]:
        """The order of this question's options for one attempt (stored with it)."""
        return []

    def add_fields(self, form: type[Form], data: Data, order: list[str]) -> None:
        """Put this question's answer fields on a new form class, options in order."""
        raise NotImplementedError

    def initial(self, stored: Answer) -> dict[str, Any]:
        """Form data that shows a stored answer again."""
        raise NotImplementedError

    def answer_from(self, form: Form, data: Data) -> Answer | None:
        """The stored shape of a validated form; None when it says nothing."""
        raise NotImplementedError

    def template_context(self, data: Data) -> dict[str, Any]:
        """Extra values this type's partials need (drawn from the question only)."""
        return {}

    # -- grading and review -------------------------------------------------------

    def grade(self, data: Data, answer: Answer) -> Verdict:
        """Pure grading: the answer data and a response in, a verdict out."""
        raise NotImplementedError

    def review_lines(
        self, data: Data, order: list[str], answer: Answer, verdict: Verdict | None
    ) -> list[Line]:
        """The rows of the review shown after answering (answer {} when skipped)."""
        raise NotImplementedError

    # -- Anki ---------------------------------------------------------------------

    def anki_fields(self, prompt: str, data: Data) -> tuple[NoteType, dict[str, str]]:
        """The note type and the type-specific fields of a question's note."""
        raise NotImplementedError
