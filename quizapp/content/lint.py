"""The mechanical item-writing rules of CONTENT.md (Haladyna et al.) as a lint."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .yamlio import ContentError

if TYPE_CHECKING:
    from .schema import QuestionDoc

ALL_NONE = re.compile(
    r"\b(all|none|both|neither)( of)? (the )?(above|below|these)\b", re.I
)
# Matched case-insensitively; only an all-capitals NOT/EXCEPT counts as emphasised.
NEGATIVE = re.compile(r"\b(not|except|never|(?<!at )least)\b|\b\w+n['’]t\b", re.I)
DIRECTIVES = (
    "choose",
    "complete",
    "fill",
    "give",
    "identify",
    "match",
    "name",
    "pair",
    "pick",
    "select",
    "state",
    "type",
    "write",
)


@dataclass(frozen=True)
class Finding:
    """A lint warning: an item-writing rule that a reviewer may accept with a reason."""

    path: str
    line: int | None
    ident: str | None
    code: str
    message: str

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line else "")
        who = f" [{self.ident}]" if self.ident else ""
        return f"{where}:{who} warning {self.code}: {self.message}"


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def lint_question(q: QuestionDoc) -> tuple[list[ContentError], list[Finding]]:
    """Errors (rules that admit no exception) and warnings for one question."""
    errors: list[ContentError] = []
    warnings: list[Finding] = []

    def warn(code: str, message: str, line: int = 0) -> None:
        if code not in q.lint_ignore:
            warnings.append(Finding(q.path, line or q.line, q.id, code, message))

    def fail(message: str, line: int = 0) -> None:
        errors.append(ContentError(q.path, line or q.line, message, q.id))

    negative = next(
        (m for m in NEGATIVE.finditer(q.prompt) if not m.group(0).isupper()), None
    )
    if negative:
        fail(
            f"negative stem ({negative.group(0)!r}): rephrase positively, or write "
            "NOT/EXCEPT in capitals where it is unavoidable",
            q.prompt_line,
        )
    if q.type != "cloze":
        _lint_stem(q, warn)
    options = q.data.get("options") if q.type != "true_false" else None
    if options:
        texts = [o["text"] for o in options]
        for text in texts:
            if ALL_NONE.search(text):
                fail(
                    f"option {text!r}: no 'all/none of the above' options",
                    q.options_line,
                )
        folded = Counter(_fold(t) for t in texts)
        for text, count in folded.items():
            if count > 1:
                fail(f"duplicate option {text!r}", q.options_line)
        low, high = (3, 4) if q.type == "single_choice" else (3, 5)
        if not low <= len(options) <= high:
            warn(
                "option-count",
                f"{len(options)} options; {low} to {high} is enough, "
                "without weak padding",
                q.options_line,
            )
        if q.type == "single_choice":
            _lint_key_length(options, lambda c, m: warn(c, m, q.options_line))
    return errors, warnings


def _lint_stem(q: QuestionDoc, warn: object) -> None:
    prompt = q.prompt.rstrip()
    first = prompt.split(maxsplit=1)[0].strip(",:").casefold() if prompt else ""
    if prompt.endswith("?"):
        return
    statement = q.type == "true_false" and prompt.endswith(".")
    directive = first in DIRECTIVES and prompt.endswith((".", ":"))
    if not (statement or directive):
        warn(  # type: ignore[operator]
            "stem-incomplete",
            "the stem should be a complete question ending in '?', or a directive "
            "(Choose/Match/Name ...) ending in '.' or ':'",
            q.prompt_line,
        )


def _lint_key_length(options: list[dict[str, object]], warn: object) -> None:
    keys = [len(str(o["text"])) for o in options if o["correct"]]
    others = [len(str(o["text"])) for o in options if not o["correct"]]
    if keys and others:
        mean = sum(others) / len(others)
        if keys[0] > 1.5 * mean:
            warn(  # type: ignore[operator]
                "key-longest",
                f"the key is {keys[0] / mean:.1f}x the mean distractor length "
                "(over 1.5x gives it away)",
            )


def lint_bank(
    questions: list[QuestionDoc], folder: str = "content/questions"
) -> list[Finding]:
    """Bank-wide rule: single-choice keys spread over the option positions."""
    positions: Counter[int] = Counter()
    for q in questions:
        if q.type == "single_choice" and "key-position" not in q.lint_ignore:
            index = next(i for i, o in enumerate(q.data["options"]) if o["correct"])
            positions[index + 1] += 1
    total = sum(positions.values())
    if total < 8:
        return []
    share = {pos: positions[pos] / total for pos in (1, 2, 3)}
    # Keys bunched on one position (or never in the first three) let a
    # test-wise learner guess from the file order in exports that keep it.
    if max(positions.values()) / total > 0.4 or min(share.values()) < 0.1:
        spread = ", ".join(f"{p}: {positions[p]}" for p in sorted(positions))
        return [
            Finding(
                folder,
                None,
                None,
                "key-position",
                f"single-choice keys are unbalanced by position ({spread})",
            )
        ]
    return []
