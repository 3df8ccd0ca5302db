"""The question types as a registry: one module per type, looked up by name.

`REGISTRY[name]` is the type's one instance (a base.QuestionType); TYPES lists the
names in the order the bank summary, the quiz builder and the synthetic banks use.
Adding a type is one module here, its template partial under
templates/quiz/types/ and, in the module, its Anki note type (frozen id and fields).
"""

from __future__ import annotations

from typing import Any

from . import (
    cloze,
    matching,
    multiple_response,
    numeric,
    ordering,
    short_answer,
    single_choice,
    true_false,
)
from .base import Line, QuestionType, Typo, Verdict

REGISTRY: dict[str, QuestionType] = {
    kind.name: kind
    for kind in (
        single_choice.TYPE,
        multiple_response.TYPE,
        true_false.TYPE,
        cloze.TYPE,
        short_answer.TYPE,
        matching.TYPE,
        numeric.TYPE,
        ordering.TYPE,
    )
}
TYPES = tuple(REGISTRY)

__all__ = ["REGISTRY", "TYPES", "Line", "QuestionType", "Typo", "Verdict", "grade"]


def grade(question_type: str, data: dict[str, Any], answer: dict[str, Any]) -> Verdict:
    """Grade one response against a question's answer data."""
    return REGISTRY[question_type].grade(data, answer)
