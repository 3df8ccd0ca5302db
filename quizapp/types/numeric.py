"""Numeric: a typed number graded against an answer and tolerance, or a range.

Content: `answer: 1978` with an optional `tolerance: 0` (0 or more), or
`range: [min, max]`; an optional `unit: years` the learner may type after the
number; an optional `close: {tolerance: X, credit: 0.5}` band that earns partial
credit, only when the content says so. Numbers are compared as exact decimals
(decimal.Decimal), never as binary floats.

What a learner may type (documented in content/README.md):
- surrounding spaces are ignored; at most 30 characters;
- an optional sign (`-`, `+` or the minus sign `−`), then ASCII digits;
- `.` is always the decimal point; `,` is a thousands separator when it groups
  digits by three (`1,000`, `12,500.5`), otherwise a decimal comma (`1,5`, `0,25`)
  provided there is no `.` as well: so `1,500` is fifteen hundred, never 1.5;
- the item's own unit may follow, in any case, with or without a space
  (`1978 years`); no other word;
- refused, with a message and the answer kept: exponents (`1e3`, `1e309`), `NaN`,
  `inf`, `--5`, `1.000,5`, spaces inside the number, other digits (`١٩٧٨`).
"""

from __future__ import annotations

import decimal
import math
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from wtforms import StringField
from wtforms.validators import InputRequired, ValidationError

from . import cards
from .base import Answer, Data, Line, QuestionType, Verdict, yaml_kind

if TYPE_CHECKING:
    from wtforms import Field, Form

    from ..content.schema import Checker
    from ..content.yamlio import Mapping

MAX_NUMBER_LENGTH = 30
# Room for the exact sum of two numbers of at most 30 characters each.
_EXACT = decimal.Context(prec=80, traps=[decimal.Inexact, decimal.Overflow])
_SIGN = r"(?P<sign>[-+−]?)"
_PLAIN = re.compile(_SIGN + r"(?P<digits>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_GROUPED = re.compile(_SIGN + r"(?P<digits>[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?)")
_DECIMAL_COMMA = re.compile(_SIGN + r"(?P<digits>[0-9]*,[0-9]+)")
NUMBER_NOTE = cards.NoteType(
    id=1131986273,
    name="Peacekeeping: number",
    fields=(
        "Question",
        "Answer",
        "Accepted answers",
        "Explanation",
        "Accuracy note",
        "Source",
        "Question ID",
    ),
    template="Number",
    front="""\
<div class="instruction">Type the number.</div>
<div class="question">{{Question}}</div>
{{type:Answer}}""",
    # As on the typed-answer card: FrontSide carries the type-in box to the back,
    # where Anki compares what was typed with the Answer field.
    back="""\
{{FrontSide}}
<hr id="answer">
<div class="accepted"><span class="label">Accepted answers</span>
{{Accepted answers}}</div>
"""
    + cards.COMMON_BACK,
)


class NumberRefused(ValueError):
    """Typed text that is not a number this item accepts; the message says why."""


def parse_number(typed: str, unit: str | None = None) -> Decimal:
    """The number a learner typed, exactly; NumberRefused when it is not one."""
    text = typed.strip()
    if len(text) > MAX_NUMBER_LENGTH:
        raise NumberRefused(
            f"That is over {MAX_NUMBER_LENGTH} characters: type just the number."
        )
    if unit and text[-len(unit) :].casefold() == unit.casefold():
        text = text[: -len(unit)].rstrip()
    for pattern, comma in ((_PLAIN, ""), (_GROUPED, ""), (_DECIMAL_COMMA, ".")):
        found = pattern.fullmatch(text)
        if found and not (comma and _thousands_like(found["digits"])):
            digits = found["digits"].replace(",", comma)
            sign = "-" if found["sign"] in ("-", "−") else ""
            return Decimal(sign + digits)
    hint = f", optionally followed by “{unit}”" if unit else ""
    raise NumberRefused(
        "Type a number, such as 1978 or 2.5 (digits, with one decimal point or "
        f"comma{hint}; no exponents or other words)."
    )


def _thousands_like(digits: str) -> bool:
    # "1,500" groups by three: a thousands separator, so never a decimal comma.
    return len(digits.partition(",")[2]) == 3


def canonical(value: Decimal) -> str:
    """A number as stored and shown: no exponent, no trailing zeros, no "-0"."""
    if value == 0:
        return "0"
    return format(value.normalize(_EXACT), "f")


def bounds(data: Data) -> tuple[Decimal, Decimal]:
    """The lowest and highest number that earns full marks."""
    if "range" in data:
        low, high = data["range"]
        return Decimal(low), Decimal(high)
    answer, tolerance = Decimal(data["answer"]), Decimal(data["tolerance"])
    return _EXACT.subtract(answer, tolerance), _EXACT.add(answer, tolerance)


def close_bounds(data: Data) -> tuple[Decimal, Decimal] | None:
    """The band that earns the `close` credit, around the full-marks bounds."""
    close = data.get("close")
    if not close:
        return None
    if "range" in data:
        low, high = bounds(data)
        wider = Decimal(close["tolerance"])
        return _EXACT.subtract(low, wider), _EXACT.add(high, wider)
    answer, wider = Decimal(data["answer"]), Decimal(close["tolerance"])
    return _EXACT.subtract(answer, wider), _EXACT.add(answer, wider)


def key_text(data: Data) -> str:
    """The right answer in words, as the review and the card's back give it."""
    unit = f" {data['unit']}" if data.get("unit") else ""
    low, high = (canonical(b) for b in bounds(data))
    if "range" in data:
        text = f"from {low} to {high}{unit}"
    elif Decimal(data["tolerance"]) == 0:
        text = f"{data['answer']}{unit}"
    else:
        give = f"give or take {data['tolerance']}"
        text = f"{data['answer']}{unit}, {give} ({low} to {high})"
    band = close_bounds(data)
    if band is not None:
        share = round(data["close"]["credit"] * 100)
        text += f"; {share}% credit from {canonical(band[0])} to {canonical(band[1])}"
    return text


class Numeric(QuestionType):
    """One text box read as an exact decimal number; the item's unit may follow."""

    name = "numeric"
    label = "Numeric"
    keys = frozenset({"answer", "tolerance", "range", "unit", "close"})
    optional_keys = keys
    fields_template = "quiz/types/numeric.html"
    note_types = (NUMBER_NOTE,)

    def read(self, check: Checker, item: Mapping, qid: str) -> Data | None:
        """`answer` (+ `tolerance`) or `range`; optional `unit` and `close`."""
        before = len(check.errors)
        if "answer" not in item and "range" not in item:
            check.error(
                item.line,
                "a numeric question needs 'answer' (with an optional 'tolerance') "
                "or 'range: [min, max]'",
                qid,
            )
            return None
        if "answer" in item and "range" in item:
            check.error(
                item.line_of("range"), "give 'answer' or 'range', not both", qid
            )
            return None
        data: dict[str, Any] = {}
        if "range" in item:
            if "tolerance" in item:
                check.error(
                    item.line_of("tolerance"),
                    "'tolerance' goes with 'answer'; a 'range' is its own tolerance",
                    qid,
                )
            found = _read_range(check, item, qid)
            if found is not None:
                data["range"] = [canonical(found[0]), canonical(found[1])]
        else:
            answer = _read_number(check, item, "answer", qid)
            tolerance = Decimal(0)
            if "tolerance" in item:
                tolerance = _read_number(check, item, "tolerance", qid) or Decimal(0)
                if tolerance < 0:
                    check.error(
                        item.line_of("tolerance"),
                        f"'tolerance' must be 0 or more, got {canonical(tolerance)}",
                        qid,
                    )
            if answer is not None:
                data["answer"] = canonical(answer)
                data["tolerance"] = canonical(tolerance)
        unit = check.text(item, "unit", qid, optional=True)
        if unit:
            data["unit"] = unit
        if "close" in item and len(check.errors) == before:
            close = _read_close(check, item, data, qid)
            if close is not None:
                data["close"] = close
        return data if len(check.errors) == before else None

    def add_fields(self, form: type[Form], data: Data, order: list[str]) -> None:
        """One text box, checked by the parsing rules above."""
        unit = data.get("unit")

        def a_number(_form: Form, field: Field) -> None:
            try:
                parse_number(str(field.data or ""), unit)
            except NumberRefused as refused:
                raise ValidationError(str(refused)) from None

        form.answer = StringField(  # type: ignore[attr-defined]
            "Your answer",
            validators=[InputRequired("Type a number."), a_number],
        )

    def initial(self, stored: Answer) -> dict[str, Any]:
        """The stored number."""
        return {"answer": stored.get("value", "")}

    def answer_from(self, form: Form, data: Data) -> Answer | None:
        """`{"value": the number, canonical}`: "1,5" and "1.50" store "1.5"."""
        typed = form.answer.data  # type: ignore[attr-defined]
        return {"value": canonical(parse_number(typed, data.get("unit")))}

    def grade(self, data: Data, answer: Answer) -> Verdict:
        """1 within the bounds, the `close` credit within its band, else 0."""
        try:
            value = parse_number(str(answer.get("value", "")))
        except NumberRefused:
            return Verdict(0.0, [False])
        low, high = bounds(data)
        if low <= value <= high:
            return Verdict(1.0, [True])
        band = close_bounds(data)
        if band is not None and band[0] <= value <= band[1]:
            return Verdict(float(data["close"]["credit"]), [False])
        return Verdict(0.0, [False])

    def review_lines(
        self, data: Data, order: list[str], answer: Answer, verdict: Verdict | None
    ) -> list[Line]:
        """One row: the number given, and what earns full marks."""
        given = answer.get("value", "")
        if given and data.get("unit"):
            given = f"{given} {data['unit']}"
        return [Line(text="Your answer", chosen=given, key=key_text(data))]

    def anki_fields(
        self, prompt: str, data: Data
    ) -> tuple[cards.NoteType, dict[str, str]]:
        """A type-in card: the number (a range: its bounds) and what is accepted."""
        if "range" in data:
            answer = f"{data['range'][0]} to {data['range'][1]}"
        else:
            answer = data["answer"]
        return NUMBER_NOTE, {
            "Question": cards.text(prompt),
            # Anki compares the typed text with this field: one plain line.
            "Answer": cards.text(answer),
            "Accepted answers": cards.text(key_text(data)),
        }


def _read_number(check: Checker, item: Mapping, key: str, qid: str) -> Decimal | None:
    """The YAML number at `key`, exactly; None after reporting an error."""
    return _number(check, item.get(key), key, item.line_of(key), qid)


def _number(
    check: Checker, value: Any, key: str, line: int, qid: str
) -> Decimal | None:
    """A finite YAML number (not a boolean, not quoted text), exactly."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        quoted = " (write it without quotes)" if isinstance(value, str) else ""
        check.error(
            line,
            f"'{key}' must be a number, got {yaml_kind(value)} {value!r}{quoted}",
            qid,
        )
        return None
    if isinstance(value, float) and not math.isfinite(value):
        check.error(line, f"'{key}' must be a finite number, got {value!r}", qid)
        return None
    # repr() of a float is its shortest exact spelling: 0.1 stays 0.1.
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if len(canonical(number)) > MAX_NUMBER_LENGTH:
        check.error(
            line, f"'{key}' must be at most {MAX_NUMBER_LENGTH} digits long", qid
        )
        return None
    return number


def _read_range(
    check: Checker, item: Mapping, qid: str
) -> tuple[Decimal, Decimal] | None:
    raw = item["range"]
    line = item.line_of("range")
    if not isinstance(raw, list) or len(raw) != 2:
        check.error(line, "'range' must be [min, max]: a list of two numbers", qid)
        return None
    ends = [_number(check, value, "range", line, qid) for value in raw]
    low, high = ends
    if low is None or high is None:
        return None
    if low > high:
        check.error(
            line,
            f"'range' runs from {canonical(low)} down to {canonical(high)}: "
            "write the smaller number first",
            qid,
        )
        return None
    return low, high


def _read_close(
    check: Checker, item: Mapping, data: Data, qid: str
) -> dict[str, Any] | None:
    raw = item["close"]
    line = item.line_of("close")
    if not isinstance(raw, dict) or not hasattr(raw, "line_of"):
        check.error(line, "'close' must be a mapping: {tolerance: X, credit: 0.5}", qid)
        return None
    before = len(check.errors)
    check.keys(raw, {"tolerance", "credit"}, set(), qid)
    if len(check.errors) > before:
        return None
    wider = _read_number(check, raw, "tolerance", qid)
    credit = _read_number(check, raw, "credit", qid)
    if wider is None or credit is None:
        return None
    own = Decimal(data.get("tolerance", "0"))
    if wider <= own:
        check.error(
            raw.line_of("tolerance"),
            f"the 'close' tolerance ({canonical(wider)}) must be wider than the "
            f"item's own ({canonical(own)})",
            qid,
        )
        return None
    if not 0 < credit < 1:
        check.error(
            raw.line_of("credit"),
            f"'credit' must be above 0 and below 1, got {canonical(credit)}",
            qid,
        )
        return None
    return {"tolerance": canonical(wider), "credit": float(credit)}


TYPE: QuestionType = Numeric()
