"""Matching: 3-6 pairs (left -> right), optional spares; the share of pairs right."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from wtforms import SelectField
from wtforms.validators import InputRequired

from . import cards
from .base import Answer, Data, Line, QuestionType, Verdict, Warn, fold, opaque_id
from .fields import choices

if TYPE_CHECKING:
    from wtforms import Form

    from ..content.schema import Checker, QuestionDoc
    from ..content.yamlio import Mapping

MIN_PAIRS, MAX_PAIRS = 3, 6
MAX_SPARES = 3
PAIR_NOTE = cards.NoteType(
    id=1138824049,
    name="Peacekeeping: matching pair",
    fields=(
        "Pairs",
        "Prompt",
        "Explanation",
        "Accuracy note",
        "Source",
        "Question ID",
    ),
    template="Pair",
    front="""\
<div class="instruction">{{Prompt}}</div>
{{cloze:Pairs}}""",
    back="""\
<div class="instruction">{{Prompt}}</div>
{{cloze:Pairs}}
<hr id="answer">
"""
    + cards.COMMON_BACK,
    deletions=True,
)


class Matching(QuestionType):
    """A select per left item over every right-hand answer (pairs' and spares)."""

    name = "matching"
    label = "Matching"
    keys = frozenset({"pairs", "spares"})
    optional_keys = frozenset({"spares"})
    fields_template = "quiz/types/matching.html"
    review_headings = ("Item", "Your answer", "Correct answer")
    note_types = (PAIR_NOTE,)
    lint_codes = ("matching-size",)
    card_css = """\
table.pairs { border-collapse: collapse; width: 100%; }
table.pairs td { padding: 0.35em 0.5em; border-bottom: 1px solid var(--rule); }
table.pairs td.arrow { color: var(--muted); width: 1.5em; text-align: center; }
.spares { margin: 0.6em 0; }
.spares ul { margin: 0.2em 0; padding-left: 1.2em; }
"""

    def read(self, check: Checker, item: Mapping, qid: str) -> Data | None:
        """`pairs` of distinct left and right items; optional `spares`."""
        pairs = []
        for pair in check.mapping_list(item, "pairs", qid):
            check.keys(pair, {"left", "right"}, set(), qid)
            left = check.text(pair, "left", qid)
            right = check.text(pair, "right", qid)
            if left and right:
                pairs.append(
                    {
                        "id": opaque_id(qid, "left", left),
                        "left": left,
                        "right_id": opaque_id(qid, "right", right),
                        "right": right,
                    }
                )
        if not MIN_PAIRS <= len(pairs) <= MAX_PAIRS:
            check.error(
                item.line_of("pairs"),
                f"matching needs {MIN_PAIRS} to {MAX_PAIRS} pairs, found {len(pairs)}",
                qid,
            )
            return None
        for kind in ("left", "right"):
            values = [fold(p[kind]) for p in pairs]
            if len(set(values)) != len(values):
                check.error(
                    item.line_of("pairs"), f"two pairs share a {kind} item", qid
                )
                return None
        data: dict[str, Any] = {"pairs": pairs}
        if "spares" in item:
            spares = _read_spares(check, item, pairs, qid)
            if spares is None:
                return None
            data["spares"] = spares
        return data

    def lint(self, q: QuestionDoc, warn: Warn, fail: Any) -> None:
        """matching-size: at least 4 pairs and a spare (rule 17)."""
        pairs, spares = len(q.data["pairs"]), len(q.data.get("spares", []))
        if pairs >= 4 and spares:
            return
        problems = []
        if pairs < 4:
            problems.append(f"{pairs} pairs (at least 4)")
        if not spares:
            problems.append("no spare answer (add `spares:`)")
        warn(
            "matching-size",
            f"{' and '.join(problems)}: knowing all but one pair must not give the "
            "last (rule 17)",
            q.key_lines.get("pairs", q.line),
        )

    def case_items(self, data: Data) -> list[str]:
        """The left-hand items."""
        return [p["left"] for p in data["pairs"]]

    def option_order(self, data: Data, rng: random.Random) -> list[str]:
        """Every right-hand answer (the pairs', then the spares), shuffled."""
        order = [p["right_id"] for p in data["pairs"]]
        order += [spare["id"] for spare in data.get("spares", [])]
        rng.shuffle(order)
        return order

    def add_fields(self, form: type[Form], data: Data, order: list[str]) -> None:
        """A select per left item (match_<id>), right-hand answers in order."""
        rights = right_hand_answers(data)
        targets = choices(
            [("", "Choose a match")] + [(r, rights[r]) for r in order if r in rights]
        )
        for pair in data["pairs"]:
            setattr(
                form,
                f"match_{pair['id']}",
                SelectField(
                    pair["left"],
                    choices=targets,
                    validators=[InputRequired(f"Choose a match for “{pair['left']}”.")],
                ),
            )

    def initial(self, stored: Answer) -> dict[str, Any]:
        """The chosen match of each left item."""
        return {f"match_{k}": v for k, v in stored.get("pairs", {}).items()}

    def answer_from(self, form: Form, data: Data) -> Answer | None:
        """`{"pairs": {left id: right id}}`."""
        return {
            "pairs": {p["id"]: form[f"match_{p['id']}"].data for p in data["pairs"]}
        }

    def grade(self, data: Data, answer: Answer) -> Verdict:
        """The share of pairs right; a part per pair."""
        chosen = answer.get("pairs", {})
        parts = [chosen.get(p["id"]) == p["right_id"] for p in data["pairs"]]
        return Verdict(round(sum(parts) / len(parts), 4), parts)

    def review_lines(
        self, data: Data, order: list[str], answer: Answer, verdict: Verdict | None
    ) -> list[Line]:
        """A row per left item: the chosen match and the right one."""
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

    def anki_fields(
        self, prompt: str, data: Data
    ) -> tuple[cards.NoteType, dict[str, str]]:
        """A table of pairs, each right-hand answer a deletion; spares listed."""
        rows = "".join(
            f'<tr><td>{cards.text(pair["left"])}</td><td class="arrow">→</td>'
            f"<td>{cards.deletion(number, pair['right'])}</td></tr>"
            for number, pair in enumerate(data["pairs"], start=1)
        )
        # Spares go into the Pairs field, after the table: the note type's fields
        # stay frozen (a new field would fork it in every learner's collection).
        # Listed on both sides, they stay outside the deletions, so each card still
        # asks to recall the one hidden right-hand answer.
        spares = data.get("spares", [])
        listed = "".join(f"<li>{cards.text(spare['text'])}</li>" for spare in spares)
        extra = (
            f'<div class="spares"><span class="label">Also offered, matching no item'
            f"</span><ul>{listed}</ul></div>"
            if spares
            else ""
        )
        return PAIR_NOTE, {
            "Pairs": f'<table class="pairs">{rows}</table>{extra}',
            "Prompt": cards.text(prompt),
        }


def right_hand_answers(data: Data) -> dict[str, str]:
    """Every right-hand answer by id: the pairs', then the spares."""
    rights = {p["right_id"]: p["right"] for p in data["pairs"]}
    rights.update((spare["id"], spare["text"]) for spare in data.get("spares", []))
    return rights


def _read_spares(
    check: Checker, item: Mapping, pairs: list[dict[str, str]], qid: str
) -> list[dict[str, str]] | None:
    """Extra right-hand answers that match no left item (CONTENT.md rule 17)."""
    line = item.line_of("spares")
    before = len(check.errors)
    texts = check.text_list(item, "spares", qid)
    if len(check.errors) > before:
        return None
    if not 1 <= len(texts) <= MAX_SPARES:
        check.error(
            line, f"'spares' holds 1 to {MAX_SPARES} answers, found {len(texts)}", qid
        )
        return None
    rights = {fold(p["right"]) for p in pairs}
    seen: set[str] = set()
    for text in texts:
        folded = fold(text)
        if folded in rights:
            check.error(line, f"spare {text!r} is also a pair's right-hand answer", qid)
        elif folded in seen:
            check.error(line, f"spare {text!r} is listed twice", qid)
        seen.add(folded)
    if len(check.errors) > before:
        return None
    # The same id scheme as a pair's right_id: in the page a spare is just one
    # more right-hand answer.
    return [{"id": opaque_id(qid, "right", text), "text": text} for text in texts]


TYPE: QuestionType = Matching()
