"""Cloze (fill in the blanks): a text with `[[answer|variant]]` blanks typed in.

Graded by the share of blanks right; an `any_order` cloze takes its blanks in any
order (the best assignment of boxes to blanks). In Anki, an own deletion note type.
"""

from __future__ import annotations

import re
from itertools import permutations
from typing import TYPE_CHECKING, Any

from wtforms import StringField
from wtforms.validators import Length, Optional

from . import cards
from .base import Answer, Data, Line, QuestionType, Typo, Verdict, typo_note, yaml_kind
from .fields import MAX_ANSWER_LENGTH, no_control_chars
from .typed import Match, match

if TYPE_CHECKING:
    from wtforms import Form

    from ..content.schema import Checker
    from ..content.yamlio import Mapping

BLANK_RE = re.compile(r"\[\[(.*?)\]\]")
MAX_ANY_ORDER_BLANKS = 6
BLANK_NOTE = cards.NoteType(
    id=1122507442,
    name="Peacekeeping: fill in the blank",
    fields=(
        "Text",
        "Prompt",
        "Accepted answers",
        "Explanation",
        "Accuracy note",
        "Source",
        "Question ID",
    ),
    template="Blank",
    front="""\
<div class="instruction">{{Prompt}}</div>
<div class="question">{{cloze:Text}}</div>""",
    back="""\
<div class="instruction">{{Prompt}}</div>
<div class="question">{{cloze:Text}}</div>
<hr id="answer">
{{#Accepted answers}}<div class="accepted"><span class="label">Accepted answers</span>
{{Accepted answers}}</div>{{/Accepted answers}}
"""
    + cards.COMMON_BACK,
    deletions=True,
)


class Cloze(QuestionType):
    """A text box per blank, in the text; `parts` are the text around the blanks."""

    name = "cloze"
    label = "Cloze"
    keys = frozenset({"text", "any_order"})
    optional_keys = frozenset({"any_order"})
    prompt_required = False
    default_prompt = "Fill in the blanks."
    checks_stem = False
    fields_template = "quiz/types/cloze.html"
    revealed_template = "quiz/types/cloze_revealed.html"
    empty_message = "Fill in at least one blank."
    note_types = (BLANK_NOTE,)
    # Anki wraps each deletion in <span class="cloze">: its style, for every card
    # whose fields hold deletions.
    card_css = ".cloze { font-weight: 700; color: var(--accent); }\n"

    def read(self, check: Checker, item: Mapping, qid: str) -> Data | None:
        """`text` with at least one blank; optional `any_order` (2 to 6 blanks)."""
        text = check.text(item, "text", qid)
        if not text:
            return None
        parts = BLANK_RE.split(text)
        blanks = []
        for raw in parts[1::2]:
            variants = [v.strip() for v in raw.split("|") if v.strip()]
            if not variants:
                check.error(item.line_of("text"), "a blank [[...]] is empty", qid)
            elif any("::" in v or "}}" in v or "{{" in v for v in variants):
                check.error(
                    item.line_of("text"),
                    "a blank must not contain '::', '{{' or '}}'",
                    qid,
                )
            blanks.append(variants)
        if not blanks:
            check.error(
                item.line_of("text"), "a cloze needs at least one blank [[answer]]", qid
            )
            return None
        if "[[" in "".join(parts[0::2]) or "]]" in "".join(parts[0::2]):
            check.error(item.line_of("text"), "unbalanced [[ ]] in cloze text", qid)
        data: dict[str, Any] = {"parts": parts[0::2], "blanks": blanks}
        if "any_order" in item:
            any_order = item["any_order"]
            if not isinstance(any_order, bool):
                check.error(
                    item.line_of("any_order"),
                    f"'any_order' must be true or false, got {yaml_kind(any_order)} "
                    f"{any_order!r}",
                    qid,
                )
                return None
            if any_order and not 2 <= len(blanks) <= MAX_ANY_ORDER_BLANKS:
                # The grader tries every order of the typed blanks (6! = 720 at most).
                check.error(
                    item.line_of("any_order"),
                    f"'any_order' needs 2 to {MAX_ANY_ORDER_BLANKS} blanks, "
                    f"found {len(blanks)}",
                    qid,
                )
                return None
            # Stored only when true: an item without it keeps its data and hash.
            if any_order:
                data["any_order"] = True
        return data

    def texts(self, data: Data) -> list[tuple[str, str]]:
        """The text around the blanks."""
        return [("text", "".join(data["parts"]))]

    def add_fields(self, form: type[Form], data: Data, order: list[str]) -> None:
        """A text box per blank (blank_1, blank_2, ...), each optional."""
        for index in range(len(data["blanks"])):
            setattr(
                form,
                f"blank_{index + 1}",
                StringField(
                    f"Blank {index + 1}",
                    validators=[
                        Optional(),
                        Length(max=MAX_ANSWER_LENGTH),
                        no_control_chars,
                    ],
                ),
            )

    def initial(self, stored: Answer) -> dict[str, Any]:
        """The typed blanks."""
        return {f"blank_{i + 1}": t for i, t in enumerate(stored.get("blanks", []))}

    def answer_from(self, form: Form, data: Data) -> Answer | None:
        """`{"blanks": [typed, ...]}`; None when every blank is empty."""
        blanks = [
            (form[f"blank_{i + 1}"].data or "").strip()
            for i in range(len(data["blanks"]))
        ]
        return {"blanks": blanks} if any(blanks) else None

    def template_context(self, data: Data) -> dict[str, Any]:
        """`segments`: the text as (text, blank number) pieces."""
        return {"segments": segments(data)}

    def grade(self, data: Data, answer: Answer) -> Verdict:
        """The share of blanks right (any order: the best assignment's)."""
        blanks = data["blanks"]
        typed = [t if isinstance(t, str) else "" for t in answer.get("blanks", [])]
        typed = typed[: len(blanks)]
        typed += [""] * (len(blanks) - len(typed))
        if data.get("any_order"):
            # found[i][j]: how the text in box i matches blank j's accepted answers.
            found = [[match(t, accepted) for accepted in blanks] for t in typed]
            cells = [found[i][j] for i, j in enumerate(_best_order(found))]
        else:
            cells = [
                match(t, accepted) for t, accepted in zip(typed, blanks, strict=True)
            ]
        parts = [ok for ok, _ in cells]
        typos = tuple(
            Typo(i, typed[i].strip(), typo) for i, (_, typo) in enumerate(cells) if typo
        )
        return Verdict(round(sum(parts) / len(parts), 4), parts, typos)

    def review_lines(
        self, data: Data, order: list[str], answer: Answer, verdict: Verdict | None
    ) -> list[Line]:
        """A row per blank: what was typed, and the accepted answers."""
        typos = {t.part: typo_note(t) for t in getattr(verdict, "typos", ())}
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

    def anki_fields(
        self, prompt: str, data: Data
    ) -> tuple[cards.NoteType, dict[str, str]]:
        """The text with a deletion per blank (its first variant)."""
        parts: list[str] = data["parts"]
        blanks: list[list[str]] = data["blanks"]
        text = [cards.text(parts[0])]
        for number, (variants, after) in enumerate(
            zip(blanks, parts[1:], strict=True), start=1
        ):
            text.append(cards.deletion(number, variants[0]))
            text.append(cards.text(after))
        accepted = "".join(
            f"<li>{' / '.join(cards.text(v) for v in variants)}</li>"
            for variants in blanks
        )
        return BLANK_NOTE, {
            "Text": "".join(text),
            "Prompt": cards.text(prompt),
            "Accepted answers": f"<ol>{accepted}</ol>",
        }


def segments(data: Data) -> list[tuple[str, int | None]]:
    """The text as (text, blank number) pieces, blanks as numbered gaps."""
    parts = data["parts"]
    pieces: list[tuple[str, int | None]] = []
    for index, text in enumerate(parts):
        if text:
            pieces.append((text, None))
        if index < len(parts) - 1:
            pieces.append(("", index + 1))
    return pieces


def _best_order(found: list[list[Match]]) -> tuple[int, ...]:
    """The assignment of boxes to distinct blanks with most right, then fewest typos.

    Brute force over the permutations: an any-order text has at most six blanks
    (the schema's limit), so at most 720 orders of six cells each.
    """

    def merit(order: tuple[int, ...]) -> tuple[int, int]:
        cells = [found[i][j] for i, j in enumerate(order)]
        return sum(ok for ok, _ in cells), -sum(bool(typo) for _, typo in cells)

    # max() keeps the first best order and the identity comes first: a learner
    # who typed the blanks in the written order is graded in that order.
    return max(permutations(range(len(found))), key=merit)


TYPE: QuestionType = Cloze()
