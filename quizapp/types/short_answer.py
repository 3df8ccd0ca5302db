"""Short answer: a typed text matched against the accepted answers; 1 or 0."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wtforms import StringField
from wtforms.validators import InputRequired, Length

from . import cards
from .base import Answer, Data, Line, QuestionType, Typo, Verdict, typo_note
from .fields import MAX_ANSWER_LENGTH, no_control_chars
from .typed import match

if TYPE_CHECKING:
    from wtforms import Form

    from ..content.schema import Checker
    from ..content.yamlio import Mapping

TYPED_NOTE = cards.NoteType(
    id=1556358264,
    name="Peacekeeping: typed answer",
    fields=(
        "Question",
        "Answer",
        "Accepted answers",
        "Explanation",
        "Accuracy note",
        "Source",
        "Question ID",
    ),
    template="Typed",
    front="""\
<div class="instruction">Type the answer.</div>
<div class="question">{{Question}}</div>
{{type:Answer}}""",
    # The type-in box must appear on the back too: FrontSide carries it, and Anki
    # turns it into the comparison of what was typed against the answer.
    back="""\
{{FrontSide}}
<hr id="answer">
<div class="accepted"><span class="label">Accepted answers</span>
{{Accepted answers}}</div>
"""
    + cards.COMMON_BACK,
)


class ShortAnswer(QuestionType):
    """One text box; `answers` lists the accepted answers, the first canonical."""

    name = "short_answer"
    label = "Short answer"
    keys = frozenset({"answers"})
    fields_template = "quiz/types/short_answer.html"
    note_types = (TYPED_NOTE,)

    def read(self, check: Checker, item: Mapping, qid: str) -> Data | None:
        """`answers`: a non-empty list of texts."""
        answers = check.text_list(item, "answers", qid)
        return {"answers": answers} if answers else None

    def add_fields(self, form: type[Form], data: Data, order: list[str]) -> None:
        """One text box."""
        form.answer = StringField(  # type: ignore[attr-defined]
            "Your answer",
            validators=[
                InputRequired("Type your answer."),
                Length(max=MAX_ANSWER_LENGTH),
                no_control_chars,
            ],
        )

    def initial(self, stored: Answer) -> dict[str, Any]:
        """The typed text."""
        return {"answer": stored.get("text", "")}

    def answer_from(self, form: Form, data: Data) -> Answer | None:
        """`{"text": the typed text, trimmed}`."""
        return {"text": form.answer.data.strip()}  # type: ignore[attr-defined]

    def grade(self, data: Data, answer: Answer) -> Verdict:
        """1 when the text matches an accepted answer (typos noted), else 0."""
        typed = str(answer.get("text", ""))
        ok, typo = match(typed, data["answers"])
        typos = (Typo(0, typed.strip(), typo),) if typo else ()
        return Verdict(1.0 if ok else 0.0, [ok], typos)

    def review_lines(
        self, data: Data, order: list[str], answer: Answer, verdict: Verdict | None
    ) -> list[Line]:
        """One row: what was typed, and every accepted answer."""
        typos = {t.part: typo_note(t) for t in getattr(verdict, "typos", ())}
        return [
            Line(
                text="Your answer",
                chosen=answer.get("text", ""),
                key=" / ".join(data["answers"]),
                typo=typos.get(0, ""),
            )
        ]

    def anki_fields(
        self, prompt: str, data: Data
    ) -> tuple[cards.NoteType, dict[str, str]]:
        """A type-in card against the canonical answer."""
        answers: list[str] = data["answers"]
        return TYPED_NOTE, {
            "Question": cards.text(prompt),
            # Anki compares the typed text with this field: one plain line.
            "Answer": cards.text(" ".join(answers[0].split())),
            "Accepted answers": " / ".join(cards.text(answer) for answer in answers),
        }


TYPE: QuestionType = ShortAnswer()
