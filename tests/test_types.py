"""The question-type registry, and the types added through it (numeric, ordering).

Each new type is checked the way the six older ones are elsewhere: its content
errors name file:line and id, its grading is a pure function, and a bad post is a
400 page with the answer kept and nothing stored.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from quizapp.content import read_bank
from quizapp.extensions import db
from quizapp.grading import grade
from quizapp.models import Response
from quizapp.types import REGISTRY, TYPES, cards
from quizapp.types.numeric import NumberRefused, canonical, parse_number
from tests.conftest import (
    FIXTURE_CONTENT,
    ROOT,
    close_app,
    count_rows,
    load_content,
    make_app,
)
from tests.test_hostile import HIGH_LIMITS, attempt_path, build, send
from tests.test_quiz import question_at

COMMON = """\
  explanation: Why.
  source:
  - quote: the 2010 earthquake in Haiti
  tags: [missions]
  difficulty: easy
  bloom: remember
"""


@pytest.fixture
def hostile_app() -> Iterator[Flask]:
    """An app with the fixture bank, rate limits out of the way."""
    app = make_app(**HIGH_LIMITS)
    load_content(app)
    yield app
    close_app(app)


# ---------------------------------------------------------------------------------
# The registry.
# ---------------------------------------------------------------------------------


def test_no_module_outside_quizapp_types_names_a_question_type() -> None:
    # The done-when: adding a type is one module (and its partial).
    names = "\\|".join(TYPES)
    found = subprocess.run(
        ["grep", "-rn", names, "quizapp/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    outside = [line for line in found if not line.startswith("quizapp/types/")]
    assert outside == []


def test_every_type_has_its_partials_and_note_types() -> None:
    templates = ROOT / "templates"
    for name, kind in REGISTRY.items():
        assert kind.name == name
        assert kind.fields_template == f"quiz/types/{name}.html"
        for partial in (kind.fields_template, kind.review_template):
            assert (templates / partial).is_file(), partial
        if kind.revealed_template:
            assert (templates / kind.revealed_template).is_file()
        assert kind.note_types, name


def test_note_type_ids_are_unique_per_note_type() -> None:
    seen: dict[int, str] = {}
    for kind in REGISTRY.values():
        for note_type in kind.note_types:
            assert seen.setdefault(note_type.id, note_type.name) == note_type.name


# ---------------------------------------------------------------------------------
# Content: every error names file:line and the question id.
# ---------------------------------------------------------------------------------


def bank_with(tmp_path: Path, item: str) -> tuple[Path, list]:
    """The fixture bank plus questions/extra.yaml holding one item; its errors."""
    bank = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, bank)
    path = bank / "questions" / "extra.yaml"
    path.write_text(
        "essay: cooperation-peacekeeping-missions\nquestions:\n" + item + COMMON,
        encoding="utf-8",
    )
    return path, read_bank(bank).errors


def line_in(path: Path, marker: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if marker in line)


NUMERIC = """\
- id: x-number
  type: numeric
  prompt: In which year?
"""


@pytest.mark.parametrize(
    ("keys", "marker", "message"),
    [
        ("", "- id: x-number", "a numeric question needs 'answer'"),
        (
            "  answer: 2010\n  tolerance: -1\n",
            "tolerance:",
            "must be 0 or more, got -1",
        ),
        ("  range: [1995, 1992]\n", "range:", "runs from 1995 down to 1992"),
        ("  range: [1992]\n", "range:", "'range' must be [min, max]"),
        ("  answer: .inf\n", "answer:", "'answer' must be a finite number"),
        ("  answer: .nan\n", "answer:", "'answer' must be a finite number"),
        ("  answer: '2010'\n", "answer:", "(write it without quotes)"),
        ("  answer: true\n", "answer:", "'answer' must be a number, got a boolean"),
        ("  answer: 1" + "0" * 40 + "\n", "answer:", "at most 30 digits"),
        ("  answer: 2010\n  range: [1, 2]\n", "range:", "not both"),
        ("  range: [1, 2]\n  tolerance: 1\n", "tolerance:", "goes with 'answer'"),
        (
            "  answer: 2010\n  tolerance: 2\n  close: {tolerance: 1, credit: 0.5}\n",
            "close:",
            "must be wider than the item's own (2)",
        ),
        (
            "  answer: 2010\n  close: {tolerance: 1, credit: 1}\n",
            "close:",
            "'credit' must be above 0 and below 1",
        ),
        ("  answer: 2010\n  close: {tolerance: 1}\n", "close:", "missing field"),
        ("  answer: 2010\n  unit: ''\n", "unit:", "'unit' must not be empty"),
    ],
)
def test_a_broken_numeric_item_is_an_error_at_its_line(
    tmp_path: Path, keys: str, marker: str, message: str
) -> None:
    path, errors = bank_with(tmp_path, NUMERIC + keys)

    [error] = errors
    assert (error.path, error.line, error.ident) == (
        str(path),
        line_in(path, marker),
        "x-number",
    )
    assert message in error.message


def test_a_numeric_item_stores_exact_decimals(tmp_path: Path) -> None:
    bank = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, bank)
    (bank / "questions" / "extra.yaml").write_text(
        "essay: cooperation-peacekeeping-missions\nquestions:\n"
        + NUMERIC
        + "  answer: 0.1\n  tolerance: 0.05\n  unit: km\n"
        + "  close: {tolerance: 0.2, credit: 0.25}\n"
        + COMMON,
        encoding="utf-8",
    )
    loaded = read_bank(bank)
    assert loaded.errors == []
    [item] = [q for q in loaded.questions if q.id == "x-number"]
    assert item.data == {
        "answer": "0.1",
        "tolerance": "0.05",
        "unit": "km",
        "close": {"tolerance": "0.2", "credit": 0.25},
    }


# ---------------------------------------------------------------------------------
# Numeric: parsing and grading, pure.
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("1978", "1978"),
        ("  1978\t", "1978"),
        ("1978 years", "1978"),
        ("1978YEARS", "1978"),
        ("1,5", "1.5"),
        ("0,25", "0.25"),
        ("1,500", "1500"),
        ("12,500.5", "12500.5"),
        ("1.500", "1.5"),
        ("-3", "-3"),
        ("−3", "-3"),
        ("+3", "3"),
        ("-0", "0"),
        (".5", "0.5"),
        ("2010.", "2010"),
        ("0002010", "2010"),
    ],
)
def test_typed_numbers_are_read_by_the_documented_rules(typed: str, number: str):
    assert canonical(parse_number(typed, "years")) == number


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "1e3",
        "1e309",
        "NaN",
        "inf",
        "-Infinity",
        "--5",
        "+-5",
        "1 000",
        "1.000,5",
        "1,000,0",
        "0x7e6",
        "1_000",
        "٢٠١٠",
        "２０１０",
        "1978 AD",
        "9" * 31,
        "9" * 500,
    ],
)
def test_what_is_not_a_number_is_refused(typed: str) -> None:
    with pytest.raises(NumberRefused):
        parse_number(typed, "years")


def test_a_unit_is_accepted_only_when_the_item_declares_it() -> None:
    with pytest.raises(NumberRefused):
        parse_number("1978 years")
    assert parse_number("1978 years", "years") == Decimal(1978)


EXACT = {"answer": "2010", "tolerance": "0"}
BAND = {"answer": "2010", "tolerance": "0", "close": {"tolerance": "1", "credit": 0.5}}


@pytest.mark.parametrize(
    ("data", "value", "score"),
    [
        (EXACT, "2010", 1.0),
        (EXACT, "2011", 0.0),
        (EXACT, "2010.0001", 0.0),
        (BAND, "2011", 0.5),
        (BAND, "2009", 0.5),
        (BAND, "2012", 0.0),
        ({"answer": "0.3", "tolerance": "0.1"}, "0.2", 1.0),  # not 0.19999... in floats
        ({"answer": "0.3", "tolerance": "0.1"}, "0.4", 1.0),
        ({"answer": "0.3", "tolerance": "0.1"}, "0.41", 0.0),
        ({"range": ["1992", "1995"]}, "1992", 1.0),
        ({"range": ["1992", "1995"]}, "1995", 1.0),
        ({"range": ["1992", "1995"]}, "1996", 0.0),
        (
            {"range": ["1992", "1995"], "close": {"tolerance": "2", "credit": 0.25}},
            "1997",
            0.25,
        ),
        (EXACT, "nonsense", 0.0),
        (EXACT, "", 0.0),
    ],
)
def test_numeric_grading_uses_exact_bounds_and_the_close_band(data, value, score):
    verdict = grade("numeric", data, {"value": value})
    assert verdict.score == score
    assert verdict.parts == [score == 1.0]


# ---------------------------------------------------------------------------------
# Numeric through the web: a bad number is a 400 with the answer kept.
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["1e309", "NaN", "--5", "9" * 500, "inf", "1.000,5", "٢٠١٠"]
)
def test_a_number_that_is_not_one_is_a_400_keeping_the_answer(
    hostile_app: Flask, typed: str
) -> None:
    client = hostile_app.test_client()
    attempt_id = build(client, "numeric")
    form = MultiDict({"version": "0", "answer": typed})

    reply = send(
        hostile_app, client, "POST", attempt_path(attempt_id, "/q/1"), {400}, form=form
    )

    page = reply.get_data(as_text=True)
    assert "Your answer was not saved" in page
    assert f'value="{typed}"' in page  # kept, to correct
    assert re.search(r"Type a number|over 30 characters", page)
    assert count_rows(hostile_app, Response) == 0


def test_a_decimal_comma_is_stored_as_the_number_it_means(hostile_app: Flask) -> None:
    client = hostile_app.test_client()
    attempt_id = build(client, "numeric", "exam")
    question = question_at(hostile_app, attempt_id, 1)
    typed = question.data["answer"] + ",0"

    reply = client.post(
        attempt_path(attempt_id, "/q/1"), data={"version": "0", "answer": typed}
    )

    assert reply.status_code == 302
    with hostile_app.app_context():
        stored = db.session.query(Response).one()
        assert stored.answer == {"value": question.data["answer"]}
        assert stored.score == 1.0


# ---------------------------------------------------------------------------------
# Ordering: content, grading, the start order, and bad posts.
# ---------------------------------------------------------------------------------

ORDERING = """\
- id: x-order
  type: ordering
  prompt: 'Put these in order:'
"""


@pytest.mark.parametrize(
    ("keys", "marker", "message"),
    [
        ("", "- id: x-order", "missing field 'items'"),
        ("  items: [A, B]\n", "items:", "needs 3 to 6 items, found 2"),
        (
            "  items: [A, B, C, D, E, F, G]\n",
            "items:",
            "needs 3 to 6 items, found 7",
        ),
        ("  items: [UNIFIL, MFO, ' unifil ']\n", "items:", "'unifil' is listed twice"),
        ("  items: [A, '', C]\n", "items:", "each entry of 'items' must be text"),
        ("  items: [A, 1978, C]\n", "items:", "(put it in quotes)"),
        ("  items: A, B, C\n", "items:", "'items' must be a list"),
    ],
)
def test_a_broken_ordering_item_is_an_error_at_its_line(
    tmp_path: Path, keys: str, marker: str, message: str
) -> None:
    path, errors = bank_with(tmp_path, ORDERING + keys)

    [error] = errors
    assert (error.path, error.line, error.ident) == (
        str(path),
        line_in(path, marker),
        "x-order",
    )
    assert message in error.message


ITEMS = {"items": [{"id": k, "text": k.upper()} for k in "abcd"]}


@pytest.mark.parametrize(
    ("order", "score", "parts"),
    [
        ("abcd", 1.0, [True, True, True, True]),
        ("bacd", 0.8333, [False, False, True, True]),  # 5 of 6 pairs
        ("dabc", 0.5, [False, False, False, False]),  # last moved first: 3 of 6
        ("dcba", 0.0, [False, False, False, False]),
        ("abdc", 0.8333, [True, True, False, False]),
    ],
)
def test_ordering_grades_the_share_of_pairs_in_order(order, score, parts) -> None:
    verdict = grade("ordering", ITEMS, {"order": list(order)})
    assert (verdict.score, verdict.parts) == (score, parts)


@pytest.mark.parametrize("order", [["a", "b", "c"], ["a", "a", "b", "c"], "abcd", None])
def test_an_order_that_is_not_the_items_scores_nothing(order) -> None:
    assert grade("ordering", ITEMS, {"order": order}).score == 0.0


def test_the_start_order_is_shuffled_and_never_the_answer() -> None:
    import random

    rng = random.Random(12)  # fixed seed: the loop below must meet every order
    kind = REGISTRY["ordering"]
    three = {"items": ITEMS["items"][:3]}
    seen = {tuple(kind.option_order(three, rng)) for _ in range(200)}
    assert ("a", "b", "c") not in seen
    assert len(seen) == 5  # every other order of three turns up


def position_form(question, positions: list[str]) -> MultiDict:
    items = question.data["items"]
    form = MultiDict({"version": "0"})
    for item, position in zip(items, positions, strict=True):
        form.add(f"position_{item['id']}", position)
    return form


@pytest.mark.parametrize(
    "positions",
    [
        ["1", "1", "2", "3"],
        ["1", "2", "3", "5"],
        ["0", "1", "2", "3"],
        ["1", "2", "3", ""],
    ],
)
def test_an_order_that_is_not_a_permutation_is_a_400_keeping_the_answer(
    hostile_app: Flask, positions: list[str]
) -> None:
    client = hostile_app.test_client()
    attempt_id = build(client, "ordering")
    question = question_at(hostile_app, attempt_id, 1)
    form = position_form(question, positions)

    reply = send(
        hostile_app, client, "POST", attempt_path(attempt_id, "/q/1"), {400}, form=form
    )

    page = reply.get_data(as_text=True)
    assert "Your answer was not saved" in page
    first = question.data["items"][0]["id"]
    if positions[0] == "1":  # the learner's choice is shown again, selected
        assert re.search(
            rf'id="position_{first}"[^>]*>.*?<option selected value="1">', page, re.S
        )
    assert count_rows(hostile_app, Response) == 0


def test_an_ordering_answer_is_reviewed_with_both_positions(hostile_app: Flask):
    client = hostile_app.test_client()
    attempt_id = build(client, "ordering")
    question = question_at(hostile_app, attempt_id, 1)
    items = question.data["items"]
    # The first two swapped: 5 of 6 pairs in order.
    reply = client.post(
        attempt_path(attempt_id, "/q/1"),
        data=position_form(question, ["2", "1", "3", "4"]),
    )
    assert reply.status_code == 302
    page = client.get(attempt_path(attempt_id, "/q/1")).get_data(as_text=True)
    assert "Partly correct (83%)" in page
    assert "Your position" in page and "Right position" in page
    rows = re.findall(r'<th scope="row">(.*?)</th>\s*<td>(\d)', page)
    assert rows == [
        (items[0]["text"], "2"),
        (items[1]["text"], "1"),
        (items[2]["text"], "3"),
        (items[3]["text"], "4"),
    ]
    with hostile_app.app_context():
        stored = db.session.query(Response).one()
        assert stored.answer == {
            "order": [items[1]["id"], items[0]["id"], items[2]["id"], items[3]["id"]]
        }


# ---------------------------------------------------------------------------------
# Both new types: retry what was missed, and its deck.
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("qtype", ["numeric", "ordering"])
def test_a_missed_new_type_is_retried_and_goes_into_the_missed_deck(
    hostile_app: Flask, qtype: str
) -> None:
    from tests.test_quiz import answer

    client = hostile_app.test_client()
    attempt_id = build(client, qtype)
    assert answer(client, hostile_app, attempt_id, 1, correct=False).status_code == 302
    assert client.post(attempt_path(attempt_id, "/finish")).status_code == 302
    results = client.get(attempt_path(attempt_id, "/results")).get_data(as_text=True)
    assert "Retry the 1 question I missed" in results

    deck = client.get(attempt_path(attempt_id, "/missed.apkg"))
    assert deck.status_code == 200 and deck.data[:2] == b"PK"
    retry = client.post(attempt_path(attempt_id, "/retry"))
    assert retry.status_code == 302
    again = retry.headers["Location"].rsplit("/", 1)[-1]
    assert question_at(hostile_app, again, 1).type == qtype


@given(st.text(alphabet=st.sampled_from("ab {}<>&\"'\n\r\u00e9"), max_size=30))
def test_field_text_fast_path_matches_the_plain_escape(value: str) -> None:
    """cards.text skips work on text without braces or line breaks: same result."""
    plain = html.escape(value).replace("{", "&#123;").replace("}", "&#125;")
    plain = re.sub(r"\r\n|\r|\n", "<br>", plain)
    assert cards.text(value) == plain
