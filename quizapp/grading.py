"""Pure grading: an answer key and a learner's response in, a verdict out.

No Flask and no database here: a checker per question type, reused by the web quiz,
the tests and anything else that needs a verdict.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Verdict:
    """A graded response: score in [0, 1], and per-part results where parts exist."""

    score: float
    parts: list[bool] = field(default_factory=list)

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


def normalise_text(text: str) -> str:
    """Fold a typed answer: NFC, case, inner whitespace, surrounding punctuation."""
    text = unicodedata.normalize("NFC", text).casefold()
    text = re.sub(r"\s+", " ", text).strip()
    start, end = 0, len(text)
    while start < end and _is_edge(text[start]):
        start += 1
    while end > start and _is_edge(text[end - 1]):
        end -= 1
    return text[start:end]


def _is_edge(char: str) -> bool:
    return char.isspace() or unicodedata.category(char).startswith(("P", "S"))


def _matches(typed: str, accepted: list[str]) -> bool:
    folded = normalise_text(typed)
    return bool(folded) and folded in {normalise_text(a) for a in accepted}


def _grade_choice(data: dict[str, Any], answer: dict[str, Any]) -> Verdict:
    key = next(o["id"] for o in data["options"] if o["correct"])
    return Verdict(1.0 if answer.get("choice") == key else 0.0)


def _grade_multiple(data: dict[str, Any], answer: dict[str, Any]) -> Verdict:
    keys = {o["id"] for o in data["options"] if o["correct"]}
    picked = set(answer.get("choices", []))
    right, wrong = len(picked & keys), len(picked - keys)
    score = max(0.0, (right - wrong) / len(keys))
    parts = [(o["id"] in picked) == o["correct"] for o in data["options"]]
    return Verdict(round(score, 4), parts)


def _grade_short(data: dict[str, Any], answer: dict[str, Any]) -> Verdict:
    ok = _matches(str(answer.get("text", "")), data["answers"])
    return Verdict(1.0 if ok else 0.0, [ok])


def _grade_cloze(data: dict[str, Any], answer: dict[str, Any]) -> Verdict:
    typed = list(answer.get("blanks", []))
    typed += [""] * (len(data["blanks"]) - len(typed))
    parts = [_matches(t, a) for t, a in zip(typed, data["blanks"], strict=False)]
    return Verdict(round(sum(parts) / len(parts), 4), parts)


def _grade_matching(data: dict[str, Any], answer: dict[str, Any]) -> Verdict:
    chosen = answer.get("pairs", {})
    parts = [chosen.get(p["id"]) == p["right_id"] for p in data["pairs"]]
    return Verdict(round(sum(parts) / len(parts), 4), parts)


CHECKERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], Verdict]] = {
    "single_choice": _grade_choice,
    "true_false": _grade_choice,
    "multiple_response": _grade_multiple,
    "short_answer": _grade_short,
    "cloze": _grade_cloze,
    "matching": _grade_matching,
}


def grade(question_type: str, data: dict[str, Any], answer: dict[str, Any]) -> Verdict:
    """Grade one response against a question's answer data."""
    return CHECKERS[question_type](data, answer)
