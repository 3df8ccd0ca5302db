"""Multiple response ("select all that apply"): partial credit per option."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wtforms.validators import InputRequired

from .base import Answer, Data, QuestionType, Verdict
from .choice import AuthoredOptions
from .fields import MultiCheckboxField

if TYPE_CHECKING:
    from wtforms import Form

    from ..content.schema import Checker
    from ..content.yamlio import Mapping


class MultipleResponse(AuthoredOptions):
    """Checkboxes; +1/k per key picked, -1/k per wrong pick, floored at 0."""

    name = "multiple_response"
    label = "Multiple response"
    fields_template = "quiz/types/multiple_response.html"
    instruction = "Choose all that apply."
    lint_codes = ("option-count", "stem-key-overlap")

    def check_keys(
        self, check: Checker, item: Mapping, options: list[Data], qid: str
    ) -> None:
        """At least one key and one option that is not."""
        keys = sum(option["correct"] for option in options)
        if not 0 < keys < len(options):
            check.error(
                item.line_of("options"),
                "a multiple-response question needs at least one correct and one "
                "incorrect option",
                qid,
            )

    def add_fields(self, form: type[Form], data: Data, order: list[str]) -> None:
        """A checkbox per option, in the attempt's order."""
        form.answer = MultiCheckboxField(  # type: ignore[attr-defined]
            "Select all that apply",
            choices=self._choices(data, order),
            validators=[InputRequired("Choose at least one option.")],
        )

    def initial(self, stored: Answer) -> dict[str, Any]:
        """The picked options."""
        return {"answer": stored.get("choices", [])}

    def answer_from(self, form: Form, data: Data) -> Answer | None:
        """`{"choices": [option id, ...]}`, sorted and without repeats."""
        return {"choices": sorted(set(form.answer.data))}  # type: ignore[attr-defined]

    def grade(self, data: Data, answer: Answer) -> Verdict:
        """(keys picked - wrong picks) / keys, floored at 0; a part per option."""
        keys = {o["id"] for o in data["options"] if o["correct"]}
        picked = set(answer.get("choices", []))
        right, wrong = len(picked & keys), len(picked - keys)
        score = max(0.0, (right - wrong) / len(keys))
        parts = [(o["id"] in picked) == o["correct"] for o in data["options"]]
        return Verdict(round(score, 4), parts)


TYPE: QuestionType = MultipleResponse()
