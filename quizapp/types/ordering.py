"""Ordering: put 3 to 6 items in order; partial credit by pairs in the right order.

Content: `items: [...]`, written in the right order. Each attempt stores a shuffled
start order (never the right one). The form is a position select per item (works
without JavaScript; app.js adds up/down buttons that keep the selects in step); a
posted set of positions that is not 1..n, each once, is refused with the answer
kept. Grading is pairwise (a Kendall-tau-like share): of the n(n-1)/2 pairs of
items, the share the learner put in the same order as the key. Moving one item
from last to first in a list of four still keeps 3 of 6 pairs (0.5), where "items
in the right position" would give 0; only the exact order earns 1.
"""

from __future__ import annotations

import random
from itertools import combinations
from typing import TYPE_CHECKING, Any

from wtforms import SelectField
from wtforms.validators import InputRequired, ValidationError

from . import cards
from .base import Answer, Data, Line, QuestionType, Verdict, fold, opaque_id
from .fields import choices

if TYPE_CHECKING:
    from wtforms import Field, Form

    from ..content.schema import Checker
    from ..content.yamlio import Mapping

MIN_ITEMS, MAX_ITEMS = 3, 6
LETTERS = "ABCDEF"
ORDER_NOTE = cards.NoteType(
    id=1885106863,
    name="Peacekeeping: put in order",
    fields=(
        "Question",
        "Items",
        "Order",
        "Explanation",
        "Accuracy note",
        "Source",
        "Question ID",
    ),
    template="Order",
    front="""\
<div class="instruction">Put these in order.</div>
<div class="question">{{Question}}</div>
{{Items}}""",
    back="""\
<div class="instruction">Put these in order.</div>
<div class="question">{{Question}}</div>
{{Items}}
<hr id="answer">
<div class="key">The order:</div>
{{Order}}
"""
    + cards.COMMON_BACK,
)


class Ordering(QuestionType):
    """A position select per item, in the attempt's shuffled start order."""

    name = "ordering"
    label = "Ordering"
    keys = frozenset({"items"})
    fields_template = "quiz/types/ordering.html"
    review_headings = ("Item", "Your position", "Right position")
    note_types = (ORDER_NOTE,)

    def read(self, check: Checker, item: Mapping, qid: str) -> Data | None:
        """`items`: 3 to 6 distinct texts (case and spacing folded), in order."""
        if "items" not in item:
            return None  # reported with the item's other missing keys
        before = len(check.errors)
        texts = check.text_list(item, "items", qid)
        if len(check.errors) > before:
            return None
        line = item.line_of("items")
        if not MIN_ITEMS <= len(texts) <= MAX_ITEMS:
            check.error(
                line,
                f"an ordering question needs {MIN_ITEMS} to {MAX_ITEMS} items, "
                f"found {len(texts)}",
                qid,
            )
            return None
        seen: set[str] = set()
        for text in texts:
            if fold(text) in seen:
                check.error(line, f"item {text!r} is listed twice", qid)
                return None
            seen.add(fold(text))
        return {"items": [{"id": opaque_id(qid, "item", t), "text": t} for t in texts]}

    def option_order(self, data: Data, rng: random.Random) -> list[str]:
        """The item ids shuffled for the attempt, never in the right order."""
        right = [i["id"] for i in data["items"]]
        order = list(right)
        while order == right:
            rng.shuffle(order)
        return order

    def add_fields(self, form: type[Form], data: Data, order: list[str]) -> None:
        """A select of positions 1..n per item (position_<id>), preset to the
        start order, each position to be given once."""
        texts = {i["id"]: i["text"] for i in data["items"]}
        shown = [iid for iid in order if iid in texts]
        names = [f"position_{iid}" for iid in shown]
        positions = choices([(str(n), str(n)) for n in range(1, len(shown) + 1)])

        def distinct(form: Form, field: Field) -> None:
            given = [form[name].data for name in names]
            if given.count(field.data) > 1:
                raise ValidationError(
                    f"Position {field.data} is given to more than one item: give "
                    "each item a different position."
                )

        for number, (iid, name) in enumerate(zip(shown, names, strict=True), 1):
            setattr(
                form,
                name,
                SelectField(
                    texts[iid],
                    choices=positions,
                    default=str(number),
                    validators=[InputRequired("Give this item a position."), distinct],
                ),
            )

    def initial(self, stored: Answer) -> dict[str, Any]:
        """Each item's stored position."""
        return {f"position_{iid}": str(n) for n, iid in enumerate(stored["order"], 1)}

    def answer_from(self, form: Form, data: Data) -> Answer | None:
        """`{"order": [item id, ...]}`, first position first."""
        ids = [i["id"] for i in data["items"]]
        return {"order": sorted(ids, key=lambda iid: int(form[f"position_{iid}"].data))}

    def grade(self, data: Data, answer: Answer) -> Verdict:
        """The share of item pairs in the key's order; a part per item in place."""
        right = [i["id"] for i in data["items"]]
        given = answer.get("order")
        if not isinstance(given, list) or sorted(given) != sorted(right):
            return Verdict(0.0, [False] * len(right))
        at = {iid: n for n, iid in enumerate(given)}
        pairs = list(combinations(right, 2))  # (earlier, later) in the key
        kept = sum(at[first] < at[second] for first, second in pairs)
        parts = [at[iid] == n for n, iid in enumerate(right)]
        return Verdict(round(kept / len(pairs), 4), parts)

    def review_lines(
        self, data: Data, order: list[str], answer: Answer, verdict: Verdict | None
    ) -> list[Line]:
        """A row per item, in the right order: the learner's position and the key's."""
        given = answer.get("order") or []
        at = {iid: n for n, iid in enumerate(given, 1)}
        return [
            Line(
                text=item["text"],
                chosen=str(at[item["id"]]) if item["id"] in at else "",
                key=str(number),
            )
            for number, item in enumerate(data["items"], 1)
        ]

    def anki_fields(
        self, prompt: str, data: Data
    ) -> tuple[cards.NoteType, dict[str, str]]:
        """The items lettered in a fixed shuffled order; the right order on the back."""
        items = data["items"]
        # Shuffled the same way at every export (by opaque id), never in the key's
        # order: the same content makes the same card.
        shown = sorted(items, key=lambda i: i["id"])
        if shown == items:
            shown = shown[1:] + shown[:1]
        letter = {i["id"]: LETTERS[n] for n, i in enumerate(shown)}
        text = {i["id"]: cards.text(i["text"]) for i in items}  # once, both sides
        front = "".join(
            f'<li><span class="letter">{letter[i["id"]]}</span>{text[i["id"]]}</li>'
            for i in shown
        )
        # The back: positions in the key's order, each item with its letter.
        order = "".join(
            f'<li class="correct"><span class="letter">{number}</span>'
            f'{text[i["id"]]}<span class="mark">{letter[i["id"]]}</span></li>'
            for number, i in enumerate(items, 1)
        )
        return ORDER_NOTE, {
            "Question": cards.text(prompt),
            "Items": f'<ul class="options">{front}</ul>',
            "Order": f'<ul class="options">{order}</ul>',
        }


TYPE: QuestionType = Ordering()
