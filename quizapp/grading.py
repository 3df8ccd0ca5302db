"""Pure grading: an answer key and a learner's response in, a verdict out.

No Flask and no database here: a checker per question type, reused by the web quiz,
the tests and anything else that needs a verdict.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import permutations
from typing import Any

# Typo tolerance (CONTENT.md rule 19): the edit distance allowed by the length of the
# accepted answer. Short words are left exact: one edit turns "Chad" into "Chat".
TYPO_MIN_LENGTH = 5
TYPO_LONG_LENGTH = 10


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


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance, optimal string alignment variant."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def typo_allowance(accepted: str) -> int:
    """How many edits a (normalised) accepted answer tolerates."""
    if len(accepted) < TYPO_MIN_LENGTH or any(c.isdigit() for c in accepted):
        # Years and numbers are the point of the answer; short words have
        # one-edit neighbours that are other words.
        return 0
    return 1 if len(accepted) < TYPO_LONG_LENGTH else 2


# How a typed text matched: (accepted?, the accepted answer it reached through a
# tolerated typo, or None when it matched exactly or not at all).
Match = tuple[bool, str | None]
NO_MATCH: Match = (False, None)


def _match(typed: str, accepted: list[str]) -> Match:
    """Whether `typed` is one of `accepted`, exactly or within the typo allowance."""
    folded = normalise_text(typed)
    if not folded:
        return NO_MATCH
    normalised = [(normalise_text(a), a) for a in accepted]
    if any(folded == n for n, _ in normalised):
        return True, None
    best: tuple[int, str] | None = None
    for n, written in normalised:
        allowance = typo_allowance(n)
        if allowance and abs(len(n) - len(folded)) <= allowance:
            distance = edit_distance(folded, n)
            if distance <= allowance and (best is None or distance < best[0]):
                best = (distance, written)
    return (True, best[1]) if best else NO_MATCH


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
    typed = str(answer.get("text", ""))
    ok, typo = _match(typed, data["answers"])
    typos = (Typo(0, typed.strip(), typo),) if typo else ()
    return Verdict(1.0 if ok else 0.0, [ok], typos)


def _grade_cloze(data: dict[str, Any], answer: dict[str, Any]) -> Verdict:
    blanks = data["blanks"]
    typed = [t if isinstance(t, str) else "" for t in answer.get("blanks", [])]
    typed = typed[: len(blanks)]
    typed += [""] * (len(blanks) - len(typed))
    if data.get("any_order"):
        # found[i][j]: how the text in box i matches blank j's accepted answers.
        found = [[_match(t, accepted) for accepted in blanks] for t in typed]
        cells = [found[i][j] for i, j in enumerate(_best_order(found))]
    else:
        cells = [_match(t, accepted) for t, accepted in zip(typed, blanks, strict=True)]
    parts = [ok for ok, _ in cells]
    typos = tuple(
        Typo(i, typed[i].strip(), typo) for i, (_, typo) in enumerate(cells) if typo
    )
    return Verdict(round(sum(parts) / len(parts), 4), parts, typos)


def _best_order(found: list[list[Match]]) -> tuple[int, ...]:
    """The assignment of boxes to distinct blanks with most right, then fewest typos.

    Brute force over the permutations: an any-order cloze has at most six blanks
    (the schema's limit), so at most 720 orders of six cells each.
    """

    def merit(order: tuple[int, ...]) -> tuple[int, int]:
        cells = [found[i][j] for i, j in enumerate(order)]
        return sum(ok for ok, _ in cells), -sum(bool(typo) for _, typo in cells)

    # max() keeps the first best order and the identity comes first: a learner
    # who typed the blanks in the written order is graded in that order.
    return max(permutations(range(len(found))), key=merit)


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
