"""True/false: a statement and `answer: true|false`; 1 or 0."""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING, Any

from . import cards
from .base import Data, QuestionType, Warn, opaque_id, yaml_kind
from .choice import ChoiceType

if TYPE_CHECKING:
    from ..content.schema import Checker, QuestionDoc
    from ..content.yamlio import Mapping

# Rule 16: hedges make a statement safe to call true; absolutes make it easy to
# call false. Matched as whole words or phrases ("can" never matches "cannot").
TF_HEDGES = (
    "as well as",
    "can",
    "could",
    "may",
    "might",
    "often",
    "usually",
    "generally",
    "sometimes",
    "some",
    "tends",
    "tend",
)
TF_ABSOLUTES = (
    "no one",
    "always",
    "never",
    "only",
    "all",
    "none",
    "every",
    "entirely",
    "solely",
    "completely",
)
TF_CUE = re.compile(
    r"\b(" + "|".join(re.escape(w) for w in TF_HEDGES + TF_ABSOLUTES) + r")\b", re.I
)
TF_BALANCE_MAX_GAP = 2


class TrueFalse(ChoiceType):
    """Two options, True then False (never shuffled); the statement is the prompt."""

    name = "true_false"
    label = "True false"
    keys = frozenset({"answer", "feedback"})
    optional_keys = frozenset({"feedback"})
    statement_stem = True
    fields_template = "quiz/types/true_false.html"
    instruction = "True or false?"
    shuffled = False
    lint_codes = ("tf-cue", "tf-balance")

    def read(self, check: Checker, item: Mapping, qid: str) -> Data | None:
        """`answer` (a YAML boolean) and optional `feedback` for the wrong pick."""
        answer = item.get("answer")
        if not isinstance(answer, bool):
            check.error(
                item.line_of("answer"),
                f"'answer' must be true or false, got {yaml_kind(answer)} {answer!r}",
                qid,
            )
            return None
        feedback = check.text(item, "feedback", qid, optional=True)
        return {
            "options": [
                {
                    "id": opaque_id(qid, "tf", str(value)),
                    "text": "True" if value else "False",
                    "correct": value is answer,
                    "feedback": None if value is answer else feedback,
                }
                for value in (True, False)
            ]
        }

    def option_order(self, data: Data, rng: random.Random) -> list[str]:
        """True, then False: the order a reader expects."""
        return [o["id"] for o in data["options"]]

    def case_items(self, data: Data) -> list[str]:
        """None: True and False are no cases."""
        return []

    def lint(self, q: QuestionDoc, warn: Warn, fail: Any) -> None:
        """tf-cue: hedges and absolutes, named."""
        hedges, absolutes = tf_cues(q.prompt)
        if not (hedges or absolutes):
            return
        named = [f"hedge {w!r}" for w in hedges]
        named += [f"absolute {w!r}" for w in absolutes]
        side = "TRUE" if _answer(q) else "FALSE"
        warn(
            "tf-cue",
            f"this {side} statement uses {', '.join(named)}: test-wise learners read "
            "hedges as true and absolutes as false; balance such words across TRUE "
            "and FALSE statements (rule 16)",
            q.prompt_line,
        )

    def lint_bank(self, questions: list[QuestionDoc]) -> list[tuple[str, str]]:
        """tf-balance: hedges and absolutes spread alike over TRUE and FALSE."""
        counts = {True: [0, 0], False: [0, 0]}  # answer -> [hedges, absolutes]
        for q in questions:
            if q.type == self.name and "tf-balance" not in q.lint_ignore:
                hedges, absolutes = tf_cues(q.prompt)
                counts[_answer(q)][0] += len(hedges)
                counts[_answer(q)][1] += len(absolutes)
        gaps = [abs(counts[True][k] - counts[False][k]) for k in (0, 1)]
        if max(gaps) <= TF_BALANCE_MAX_GAP:
            return []
        return [
            (
                "tf-balance",
                f"hedges: {counts[True][0]} in TRUE statements, {counts[False][0]} "
                f"in FALSE; absolutes: {counts[True][1]} in TRUE, {counts[False][1]} "
                f"in FALSE (a gap over {TF_BALANCE_MAX_GAP} lets the wording give the "
                "answer away; rule 16)",
            )
        ]

    def anki_key(self, keys: list[tuple[str, dict[str, Any]]]) -> str:
        """The key in words: True or False."""
        return ", ".join(cards.text(option["text"]) for _, option in keys)


def tf_cues(statement: str) -> tuple[list[str], list[str]]:
    """The hedges and the absolutes a true/false statement uses, in order."""
    hedges, absolutes = [], []
    for match in TF_CUE.finditer(statement):
        word = match.group(1).casefold()
        (hedges if word in TF_HEDGES else absolutes).append(word)
    return hedges, absolutes


def _answer(q: QuestionDoc) -> bool:
    return next(o["correct"] for o in q.data["options"] if o["text"] == "True")


TYPE: QuestionType = TrueFalse()
