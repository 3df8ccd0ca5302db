"""The mechanical item-writing rules of CONTENT.md (Haladyna et al.) as a lint."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..types import REGISTRY
from .yamlio import ContentError

if TYPE_CHECKING:
    from .schema import QuestionDoc

# Matched case-insensitively; only an all-capitals NOT/EXCEPT counts as emphasised.
NEGATIVE = re.compile(r"\b(not|except|never|(?<!at )least)\b|\b\w+n['’]t\b", re.I)
DIRECTIVES = (
    "arrange",
    "choose",
    "complete",
    "fill",
    "give",
    "identify",
    "match",
    "name",
    "pair",
    "pick",
    "put",
    "rank",
    "select",
    "state",
    "type",
    "write",
)
ESSAY_DEICTIC = re.compile(r"\b(the|this) essay\b", re.I)
# bloom-scenario: a prompt describes a scenario when it is long enough to set a
# scene and names a particular case: a scene word, or an indefinite actor ("a
# mission", "two countries", "a host government", "a town's water supply").
SCENARIO_MIN_WORDS = 15
SCENE_WORDS = re.compile(
    r"\b(suppose|supposing|imagine|scenario|scenarios|scene|scenes|situation"
    r"|situations)\b",
    re.I,
)
SCENE_ACTORS = re.compile(
    r"\b(a|an|one|two|three|four|five|several)\s+(?:[\w-]+\s+)?"
    r"(mission|missions|country|countries|government|governments|officer|officers"
    r"|planner|planners|commander|state|states|town|village|city|province|region"
    r"|district|unit|units|team|teams|battalion|contingent|force|forces|patrol"
    r"|peacekeeper|peacekeepers|engineers|troops|soldiers|ministry|minister|camp"
    r"|community|militia|effort|operation)\b",
    re.I,
)
# ... or the prompt says its options (or left-hand items) are the cases, and they
# read as descriptions rather than labels.
CASE_ITEMS = re.compile(
    r"\b(each|which|what)\s+(?:[\w-]+\s+)?(situation|scene|scenario|example|case"
    r"|deployment|development|activity|event|episode|policy|step|action|story)\b",
    re.I,
)
CASE_ITEM_MIN_WORDS = 5
SCENARIO_BLOOMS = ("apply", "analyze")


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
    kind = REGISTRY[q.type]
    if kind.checks_stem:
        _lint_stem(q, warn)
    kind.lint(q, warn, fail)
    _lint_essay_reference(q, warn)
    _lint_bloom_scenario(q, warn)
    return errors, warnings


def _lint_stem(q: QuestionDoc, warn: object) -> None:
    prompt = q.prompt.rstrip()
    first = prompt.split(maxsplit=1)[0].strip(",:").casefold() if prompt else ""
    if prompt.endswith("?"):
        return
    statement = REGISTRY[q.type].statement_stem and prompt.endswith(".")
    directive = first in DIRECTIVES and prompt.endswith((".", ":"))
    if not (statement or directive):
        warn(  # type: ignore[operator]
            "stem-incomplete",
            "the stem should be a complete question ending in '?', or a directive "
            "(Choose/Match/Name ...) ending in '.' or ':'",
            q.prompt_line,
        )


Warn = Callable[..., None]


def _lint_essay_reference(q: QuestionDoc, warn: Warn) -> None:
    essays = sorted({source.essay for source in q.sources})
    if len(essays) < 2:
        return
    for key, text in (("prompt", q.prompt), *REGISTRY[q.type].texts(q.data)):
        match = ESSAY_DEICTIC.search(text)
        if match and key in q.key_lines:
            warn(
                "multi-essay-prompt",
                f"the {key} says {match.group(0)!r} but the item cites "
                f"{len(essays)} essays ({', '.join(essays)}); the question page "
                "names only its own essay: say 'the essays', or cite one",
                q.key_lines[key],
            )
            return


def describes_scenario(q: QuestionDoc) -> bool:
    """Whether the item sets a scene to apply or analyse (see content/README.md)."""
    kind = REGISTRY[q.type]
    prompt = " ".join([q.prompt, *(text for _, text in kind.texts(q.data))])
    long_enough = len(prompt.split()) >= SCENARIO_MIN_WORDS
    if long_enough and (SCENE_WORDS.search(prompt) or SCENE_ACTORS.search(prompt)):
        return True
    items = kind.case_items(q.data)
    if not items:
        return False
    words = sum(len(item.split()) for item in items) / len(items)
    return bool(CASE_ITEMS.search(prompt)) and words >= CASE_ITEM_MIN_WORDS


def _lint_bloom_scenario(q: QuestionDoc, warn: Warn) -> None:
    if q.bloom in SCENARIO_BLOOMS and not describes_scenario(q):
        warn(
            "bloom-scenario",
            f"bloom '{q.bloom}' needs a new situation to work on, and this item "
            "describes none: set a scene in the prompt (or make the options "
            "cases), or label it 'remember'/'understand' honestly",
            q.key_lines.get("bloom", q.line),
        )


def lint_bank(
    questions: list[QuestionDoc], folder: str = "content/questions"
) -> list[Finding]:
    """Bank-wide rules: key positions and lengths, true/false cue balance.

    A question that names a bank-wide code in `lint_ignore` is left out of that
    rule's count.
    """
    findings = [
        finding for kind in REGISTRY.values() for finding in kind.lint_bank(questions)
    ]
    return [Finding(folder, None, None, code, message) for code, message in findings]
