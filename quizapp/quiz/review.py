"""What a learner sees after answering: verdict, key, feedback, explanation, sources.

Only answered (or finished) questions ever reach this module's output, so a question
page rendered before answering holds no key material.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..grading import Verdict, grade
from .forms import right_hand_answers

if TYPE_CHECKING:
    from .fragments import QuestionView


@dataclass(frozen=True)
class Line:
    """One row of the answer table: a choice, blank or pair and how it fared."""

    text: str
    chosen: str = ""
    correct: bool = False
    key: str = ""
    feedback: str | None = None
    typo: str = ""  # "Accepted: you typed ..., the answer is ..."


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

    @property
    def answered(self) -> bool:
        """Whether the learner answered at all."""
        return self.verdict is not None


def build_feedback(
    question: QuestionView, order: list[str], answer: dict[str, Any] | None
) -> Feedback:
    """Review data for one question given the learner's answer (None: skipped)."""
    verdict = None if answer is None else grade(question.type, question.data, answer)
    return Feedback(
        question=question,
        verdict=verdict,
        lines=_lines(question, order, answer or {}, verdict),
        explanation=question.explanation,
        note=question.note,
        sources=list(question.sources),
    )


def _lines(
    question: QuestionView,
    order: list[str],
    answer: dict[str, Any],
    verdict: Verdict | None,
) -> list[Line]:
    data = question.data
    typos = {t.part: _typo_note(t) for t in getattr(verdict, "typos", ())}
    if question.type in ("single_choice", "true_false", "multiple_response"):
        picked = set(answer.get("choices", [])) | {answer.get("choice")}
        options = {o["id"]: o for o in data["options"]}
        return [
            Line(
                text=options[oid]["text"],
                chosen="yes" if oid in picked else "",
                correct=options[oid]["correct"],
                feedback=options[oid]["feedback"],
            )
            for oid in order or list(options)
            if oid in options
        ]
    if question.type == "short_answer":
        return [
            Line(
                text="Your answer",
                chosen=answer.get("text", ""),
                key=" / ".join(data["answers"]),
                typo=typos.get(0, ""),
            )
        ]
    if question.type == "cloze":
        typed = answer.get("blanks", [])
        return [
            Line(
                text=f"Blank {i + 1}",
                chosen=typed[i] if i < len(typed) else "",
                key=" / ".join(accepted),
                typo=typos.get(i, ""),
            )
            for i, accepted in enumerate(data["blanks"])
        ]
    rights = right_hand_answers(data)
    chosen = answer.get("pairs", {})
    return [
        Line(
            text=p["left"],
            chosen=rights.get(chosen.get(p["id"], ""), ""),
            key=p["right"],
        )
        for p in data["pairs"]
    ]


def _typo_note(typo: Any) -> str:
    return f"Accepted: you typed “{typo.typed}”, the answer is “{typo.accepted}”."


def cloze_segments(question: QuestionView) -> list[tuple[str, int | None]]:
    """The cloze text as (text, blank number) pieces, blanks as numbered gaps."""
    parts = question.data["parts"]
    pieces: list[tuple[str, int | None]] = []
    for index, text in enumerate(parts):
        if text:
            pieces.append((text, None))
        if index < len(parts) - 1:
            pieces.append(("", index + 1))
    return pieces
