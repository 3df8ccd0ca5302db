"""What a learner sees after answering: verdict, key, feedback, explanation, sources.

Only answered (or finished) questions ever reach this module's output, so a question
page rendered before answering holds no key material. The rows of the answer review
come from the question's type (quizapp/types/), as does the partial that shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..grading import Verdict
from ..types import REGISTRY, Line

if TYPE_CHECKING:
    from .fragments import QuestionView

__all__ = ["Feedback", "Line", "Source", "build_feedback"]


@dataclass(frozen=True)
class Source:
    """A supporting quote and where it sits."""

    quote: str
    essay_title: str
    essay_slug: str
    anchor: str


@dataclass(frozen=True)
class Feedback:
    """The whole review of one answered (or skipped) question."""

    question: QuestionView
    verdict: Verdict | None
    lines: list[Line] = field(default_factory=list)
    explanation: str = ""
    note: str | None = None
    sources: list[Source] = field(default_factory=list)
    # The type's partial for the lines, and the table's column headings.
    template: str = ""
    headings: tuple[str, str, str] = ("", "", "")

    @property
    def answered(self) -> bool:
        """Whether the learner answered at all."""
        return self.verdict is not None


def build_feedback(
    question: QuestionView, order: list[str], answer: dict[str, Any] | None
) -> Feedback:
    """Review data for one question given the learner's answer (None: skipped)."""
    kind = REGISTRY[question.type]
    verdict = None if answer is None else kind.grade(question.data, answer)
    return Feedback(
        question=question,
        verdict=verdict,
        lines=kind.review_lines(question.data, order, answer or {}, verdict),
        explanation=question.explanation,
        note=question.note,
        sources=list(question.sources),
        template=kind.review_template,
        headings=kind.review_headings,
    )
