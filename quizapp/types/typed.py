"""Typed answers: how a typed text is folded and matched, small typos tolerated.

Shared by the types a learner answers by typing words (a short answer, the blanks
of a text). Pure functions, no Flask and no database.
"""

from __future__ import annotations

import re
import unicodedata

# Typo tolerance (CONTENT.md rule 19): the edit distance allowed by the length of the
# accepted answer. Short words are left exact: one edit turns "Chad" into "Chat".
TYPO_MIN_LENGTH = 5
TYPO_LONG_LENGTH = 10


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


def match(typed: str, accepted: list[str]) -> Match:
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
