"""Pure grading: an answer key and a learner's response in, a verdict out.

No Flask and no database here. A thin facade over the question-type registry
(quizapp/types/): each type's module holds its own pure grading function, and the
comparison of typed text the typed types share lives in quizapp/types/typed.py.
"""

from __future__ import annotations

from .types import REGISTRY, Typo, Verdict, grade
from .types.typed import edit_distance, normalise_text, typo_allowance

__all__ = [
    "REGISTRY",
    "Typo",
    "Verdict",
    "edit_distance",
    "grade",
    "normalise_text",
    "typo_allowance",
]
