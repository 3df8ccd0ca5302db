"""Hostile input on every route: never a 5xx, and a refused request changes no row.

Property-based (hypothesis) tests post random and malicious form data to every POST
route and random ids to every GET route. Each request is bracketed by a snapshot of
the database (row counts of every table, and the contents of every stored response
and attempt): a 4xx must leave the snapshot unchanged, a GET never changes it.

The seven bugs these tests found (a 500 for a superscript digit in `version`, NUL in
URL ids on PostgreSQL, JSON bodies on form routes, HEAD as a post, DEL/C1 controls, a
lock timeout as a 500) are fixed; each keeps a test of its own below.

Figures: every test adds to STATS; the module prints one summary line at its end
(inputs tried / 5xx seen / rows changed by rejected requests).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from quizapp.content.schema import TYPES
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    ContentState,
    Essay,
    Learner,
    Passage,
    Question,
    QuestionSource,
    Quiz,
    Response,
    Tag,
)
from tests.conftest import (
    FIXTURE_CONTENT,
    TEST_DATABASE_URL,
    close_app,
    count_rows,
    load_content,
    make_app,
)
from tests.test_quiz import answer, attempt_row, payload, question_at, start

IS_POSTGRES = bool(TEST_DATABASE_URL)
HIGH_LIMITS = {
    "RATE_LIMIT_START": "100000 per minute",
    "RATE_LIMIT_DECKS": "100000 per minute",
    "RATE_LIMIT_ANSWER": "100000 per minute",
    "RATE_LIMIT_WRITE": "100000 per minute",
}
NO_BODY = object()
# werkzeug redirects an id holding "/" (an empty path segment) to the merged path.
ROUTING_REDIRECTS = {308}
STATS: dict[str, int] = {
    "inputs tried": 0,
    "5xx seen": 0,
    "rows changed by rejected requests": 0,
}
TABLES = (
    Essay,
    Passage,
    Tag,
    Question,
    QuestionSource,
    Quiz,
    ContentState,
    Learner,
    Attempt,
    Response,
)
HYPOTHESIS = settings(
    deadline=None,
    suppress_health_check=[
        # One app and database per test, shared by its examples on purpose: every
        # example snapshots the rows around each request it sends.
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# ---------------------------------------------------------------------------------
# Snapshots and the one request helper every test here goes through.
# ---------------------------------------------------------------------------------


COUNTS = select(
    *(select(func.count()).select_from(model).scalar_subquery() for model in TABLES)
)
RESPONSES = select(
    Response.id,
    Response.attempt_id,
    Response.question_id,
    Response.answer,
    Response.score,
    Response.version,
    Response.answered_at,
).order_by(Response.id)
ATTEMPTS = select(
    Attempt.id,
    Attempt.learner_id,
    Attempt.mode,
    Attempt.layout,
    Attempt.finished_at,
    Attempt.score,
).order_by(Attempt.id)
QUESTIONS = select(Question.id, Question.content_hash, Question.retired).order_by(
    Question.id
)


def snapshot(app: Flask) -> tuple[Any, ...]:
    """Row counts of every table, and the contents of responses and attempts."""
    with app.app_context():
        rows = tuple(
            [tuple(row) for row in db.session.execute(query)]
            for query in (COUNTS, RESPONSES, ATTEMPTS, QUESTIONS)
        )
        db.session.remove()
    return rows


def has_c0_control(value: Any) -> bool:
    """Whether a stored answer holds a NUL or another C0 control (tab allowed)."""
    if isinstance(value, str):
        return any(ord(c) < 32 and c != "\t" for c in value)
    if isinstance(value, dict):
        return any(has_c0_control(v) for v in value.values())
    if isinstance(value, list):
        return any(has_c0_control(v) for v in value)
    return False


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return NO_BODY


def send(
    app: Flask,
    client: FlaskClient,
    method: str,
    path: str,
    allowed: set[int],
    *,
    form: MultiDict | None = None,
    json_body: Any = NO_BODY,
    raw_body: bytes | None = None,
) -> Any:
    """One request, checked: a documented status, no 5xx, no change when refused."""
    before = snapshot(app)
    kwargs: dict[str, Any] = {}
    if form is not None:
        kwargs["data"] = form
    elif raw_body is not None:
        kwargs["data"] = raw_body
        kwargs["content_type"] = "application/json"
    elif json_body is not NO_BODY:
        kwargs["data"] = json.dumps(json_body)
        kwargs["content_type"] = "application/json"
    reply = client.open(path, method=method, **kwargs)
    after = snapshot(app)
    status = reply.status_code
    STATS["inputs tried"] += 1
    changed = before != after
    if raw_body is not None:
        json_body = _parsed(raw_body)
    if status >= 500:
        STATS["5xx seen"] += 1
    if 400 <= status < 500 and changed:
        STATS["rows changed by rejected requests"] += 1
    assert status < 500, (method, path, form, json_body, status)
    assert status in allowed, (method, path, form, json_body, status)
    assert b"Traceback" not in reply.get_data()
    if status >= 400 or status in ROUTING_REDIRECTS:
        assert not changed, (method, path, form, json_body, status)
    if method in ("GET", "HEAD"):
        assert not changed, (method, path, "a read changed rows")
    for response in after[1]:
        assert not has_c0_control(response[3]), ("control character stored", response)
    return reply


# ---------------------------------------------------------------------------------
# Fixtures and strategies.
# ---------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def report_figures(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print the module's figures once all its tests ran (visible without -s)."""
    yield
    print_figures(request, "test_hostile", STATS)


def print_figures(
    request: pytest.FixtureRequest, module: str, figures: dict[str, int]
) -> None:
    """One summary line on the terminal, past output capturing."""
    line = f"{module}: " + ", ".join(f"{k}: {v}" for k, v in figures.items())
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or reporter is None:  # pragma: no cover - -p no:terminal
        print(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(line)


@pytest.fixture
def hostile_app() -> Iterator[Flask]:
    """An app with the fixture bank, rate limits out of the way."""
    app = make_app(**HIGH_LIMITS)
    load_content(app)
    yield app
    close_app(app)


def all_questions(app: Flask) -> list[Question]:
    with app.app_context():
        questions = list(db.session.scalars(select(Question).order_by(Question.id)))
        for question in questions:
            db.session.expunge(question)
        return questions


def option_ids(question: Question) -> list[str]:
    """Every id a form of this question could legitimately carry."""
    data = question.data
    ids = [o["id"] for o in data.get("options", [])]
    ids += [p["right_id"] for p in data.get("pairs", [])]
    if data.get("items"):  # positions, and one past each end
        ids += [str(n) for n in range(len(data["items"]) + 2)]
    return ids


def typed_answers(question: Question) -> list[str]:
    data = question.data
    typed = list(data.get("answers", []))
    typed += [variant for blank in data.get("blanks", []) for variant in blank]
    if question.type == "numeric":
        number = data["range"][0] if "range" in data else data["answer"]
        typed += [number, f" {number} ", f"{number}.0", f"{number} {data.get('unit')}"]
    return typed


# Characters an attacker reaches for: NUL and other controls, markup, SQL, format
# strings, bidi overrides, combining marks, non-ASCII digits, astral symbols.
NASTY_CHARS = list("\x00\x01\x08\x0b\x1b\x7f\x85\x9b\t\n\r\u200b\u202e\u0301²١'\"<>%&;")
HOSTILE_VALUES = [
    "",
    " ",
    "\x00",
    "0\x00",
    "Haiti\x00",
    "\x00Haiti",
    "Hai\x01ti",
    "Haiti\n",
    "Haiti\r\nX-Injected: 1",
    "-1",
    "0",
    "1",
    "00",
    "1e9",
    "99999999999999999999",
    "-99999999999999999999",
    "NaN",
    "²",
    "¹²",
    "١",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "'; DROP TABLE response; --",
    "%s%s%n",
    "{{ config }}",
    "../../etc/passwd",
    "\u202eitiaH",
    unicodedata.normalize("NFD", "Haïti"),
    # Numbers a parser may choke on or read too generously.
    "1e309",
    "-1e309",
    "1E3",
    "nan",
    "inf",
    "-Infinity",
    "--5",
    "+-5",
    "0x7e6",
    "1_000",
    "1.000,5",
    "1,000,0",
    "2010.",
    "٢٠١٠",
    "２０１０",
    "9" * 500,
]


def ten_thousand(char: str) -> str:
    """10,000 characters: over the 200-character limit; "💥" is 120 KB encoded."""
    return char * 10_000


long_text = st.sampled_from(["x", "é", "\x00", "💥"]).map(ten_thousand)
hostile_text = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from(NASTY_CHARS)),
    max_size=30,
)
token_like = st.binary(min_size=16, max_size=16).map(
    lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
)
ANSWER_KEYS = ["answer", "version", "csrf_token", "blank_1", "blank_2", "blank_3"]
TAMPER_KEYS = ["score", "correct", "points", "finished_at", "learner_id"]
HOSTILE_NUMBERS = [
    "0",
    "-1",
    "01",
    "7",
    "99",
    "99999999999999999999",
    "-99999999999999999999",
    "²",
    "١",
    "1.5",
    "1e3",
    " 1",
    "\x00",
    "abc",
]


def spliced(texts: list[str]) -> st.SearchStrategy[str]:
    """An accepted answer with a nasty character slipped in somewhere."""
    return st.builds(
        lambda text, char, at: text[: at % (len(text) + 1)] + char + text[at:],
        st.sampled_from(texts),
        st.sampled_from(NASTY_CHARS),
        st.integers(0, 40),
    )


def hostile_values(question: Question, foreign: list[str]) -> st.SearchStrategy[str]:
    own = option_ids(question) + typed_answers(question)
    return st.one_of(
        st.sampled_from(own),
        spliced(own),
        st.sampled_from(foreign),  # choice ids of every question, this one's too
        st.sampled_from(HOSTILE_VALUES),
        long_text,
        hostile_text,
        st.integers(-(10**20), 10**20).map(str),
    )


def form_pairs(
    data: st.DataObject, question: Question, foreign: list[str], version: int
) -> MultiDict:
    """A valid answer (right or wrong) with fields kept, dropped, replaced or
    repeated, then extra fields, in any order."""
    values = hostile_values(question, foreign)
    base = list(payload(question, data.draw(st.booleans(), label="correct")).items())
    valid: list[tuple[str, str]] = [("version", str(version))]
    for key, value in base:
        valid += [(key, v) for v in (value if isinstance(value, list) else [value])]
    pairs: list[tuple[str, str]] = []
    for key, value in valid:
        action = data.draw(st.sampled_from(FIELD_ACTIONS), label=f"{key} action")
        if action == "drop":
            continue
        pairs.append((key, data.draw(values) if action == "replace" else value))
        if action == "repeat":
            pairs.append((key, data.draw(values, label=f"{key} again")))
    match_keys = [f"match_{p['id']}" for p in question.data.get("pairs", [])]
    match_keys += [f"position_{i['id']}" for i in question.data.get("items", [])]
    keys = st.one_of(
        st.sampled_from(ANSWER_KEYS + match_keys + TAMPER_KEYS), hostile_text
    )
    pairs += data.draw(st.lists(st.tuples(keys, values), max_size=4), label="extra")
    if data.draw(st.booleans(), label="shuffle"):
        pairs = data.draw(st.permutations(pairs), label="order")
    return MultiDict(pairs)


FIELD_ACTIONS = ["keep", "keep", "drop", "replace", "replace", "repeat"]
# The fixture bank holds one question of every type the schema knows.
FIXTURE_TYPES = list(TYPES)


def build(client: FlaskClient, qtype: str, mode: str = "practice") -> str:
    """A one-question attempt of the fixture's question of this type."""
    form = {"types": qtype, "count": "1", "mode": mode}
    reply = client.post("/build", data=form)
    assert reply.status_code == 302, reply.data
    return reply.headers["Location"].rsplit("/", 1)[-1]


def attempt_path(attempt_id: str, suffix: str = "") -> str:
    return f"/attempts/{quote(attempt_id, safe='')}{suffix}"


# ---------------------------------------------------------------------------------
# Property tests.
# ---------------------------------------------------------------------------------


def test_random_answer_posts_never_5xx_and_refusals_change_nothing(
    hostile_app: Flask, record_property: Callable[[str, object], None]
) -> None:
    app = hostile_app
    questions = all_questions(app)
    foreign = sorted({i for q in questions for i in option_ids(q)})
    stranger = app.test_client()
    stranger_attempt = start(stranger, "fx-exam")
    tried = STATS["inputs tried"]

    @settings(HYPOTHESIS, max_examples=120)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        # The builder draws the fixture's one question of the chosen type, so what
        # is drawn next never depends on the attempt's random order.
        client = app.test_client()
        qtype = data.draw(st.sampled_from(FIXTURE_TYPES), label="type")
        mode = data.draw(st.sampled_from(["practice", "exam"]), label="mode")
        attempt_id = build(client, qtype, mode)
        number = 1
        state = data.draw(
            st.sampled_from(["fresh", "answered", "finished"]), label="state"
        )
        version = 0
        if state != "fresh":
            reply = answer(client, app, attempt_id, number, data.draw(st.booleans()))
            assert reply.status_code == 302
            version = data.draw(st.sampled_from([0, 1, 2]), label="version")
        if state == "finished":
            assert client.post(attempt_path(attempt_id, "/finish")).status_code == 302
        # Mostly the learner's own attempt and a real number, so that most forms
        # reach the form checks; the rest aim at someone else's or at nothing.
        target = data.draw(
            st.one_of(
                st.sampled_from([attempt_id] * 6 + [stranger_attempt]),
                token_like,
                hostile_text.filter(bool),
            ),
            label="attempt",
        )
        url_number = data.draw(
            st.sampled_from([str(number)] * 4 + HOSTILE_NUMBERS), label="url number"
        )
        form = form_pairs(data, question_at(app, attempt_id, number), foreign, version)
        path = attempt_path(target, f"/q/{quote(url_number, safe='')}")
        allowed = {302, 400, 404, 409, 413} | ROUTING_REDIRECTS
        reply = send(app, client, "POST", path, allowed, form=form)
        if reply.status_code == 302:
            assert target == attempt_id and url_number.isdecimal()
            question = question_at(app, attempt_id, int(url_number))
            with app.app_context():
                stored = db.session.scalar(
                    select(Response).where(
                        Response.attempt_id == attempt_id,
                        Response.question_id == question.id,
                    )
                )
                assert stored is not None, "accepted but not stored"
                if question.type == "numeric":
                    # Only an exact decimal is ever stored, whatever was typed.
                    value = stored.answer["value"]
                    assert re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value), value

    run()
    record_property("inputs_tried", STATS["inputs tried"] - tried)


GET_ROUTES: list[tuple[str, set[int]]] = [
    ("/", {200}),
    ("/build", {200}),
    ("/healthz", {200}),
    ("/decks/bank.apkg", {200}),
    ("/attempts/{id}", {302, 404}),
    ("/attempts/{id}/q/{n}", {200, 404}),
    ("/attempts/{id}/finish", {200, 302, 404}),
    ("/attempts/{id}/results", {200, 302, 404}),
    ("/attempts/{id}/missed.apkg", {200, 404, 409}),
    ("/essays/{slug}", {200, 404}),
    ("/decks/essays/{slug}.apkg", {200, 404}),
    ("/decks/quizzes/{slug}.apkg", {200, 404}),
]


def test_random_ids_on_every_get_route_never_5xx_and_change_nothing(
    hostile_app: Flask, record_property: Callable[[str, object], None]
) -> None:
    app = hostile_app
    owner, stranger = app.test_client(), app.test_client()
    unfinished = start(owner, "fx-practice")
    finished = start(owner, "fx-exam")
    answer(owner, app, finished, 1, correct=True)
    owner.post(attempt_path(finished, "/finish"))
    elsewhere = start(stranger, "fx-exam")
    slugs = ["cooperation-peacekeeping-missions", "fx-practice", "fx-exam"]
    ids = [unfinished, finished, elsewhere, *slugs]
    tried = STATS["inputs tried"]

    @settings(HYPOTHESIS, max_examples=160)
    @given(data=st.data())
    @example(data=None)
    def run(data: st.DataObject | None) -> None:
        if data is None:  # the explicit cases, all in one example
            for template, allowed in GET_ROUTES:
                for value in ["\x00", "-1", "99999999999999999999", "a" * 500]:
                    path = fill(template, value, "-1")
                    send(app, owner, "GET", path, allowed | ROUTING_REDIRECTS)
            for n in ["-1", "0", "99999999999999999999", "²"]:
                path = fill("/attempts/{id}/q/{n}", unfinished, n)
                send(app, owner, "GET", path, {200, 404})
            return
        template, allowed = data.draw(st.sampled_from(GET_ROUTES), label="route")
        value = data.draw(
            st.one_of(
                st.sampled_from(ids),
                token_like,
                hostile_text.filter(bool),
                st.sampled_from(HOSTILE_VALUES),
            ),
            label="id",
        )
        number = data.draw(
            st.one_of(st.integers(-3, 8).map(str), st.sampled_from(HOSTILE_NUMBERS)),
            label="n",
        )
        query = data.draw(
            st.dictionaries(
                st.sampled_from(["from", "next", "q", "page"]), hostile_text, max_size=2
            ),
            label="query",
        )
        who = data.draw(
            st.sampled_from([owner, stranger, app.test_client()]), label="client"
        )
        path = fill(template, value, number)
        if template == "/" and "page" in query:
            # A page number out of range (0, 7, -1) is the catalogue's 404.
            allowed = allowed | {404}
        if query:
            path += "?" + "&".join(
                f"{quote(k)}={quote(v, safe='')}" for k, v in query.items()
            )
        send(app, who, "GET", path, allowed | ROUTING_REDIRECTS)

    run()
    record_property("inputs_tried", STATS["inputs tried"] - tried)


def fill(template: str, value: str, number: str) -> str:
    return template.format(
        id=quote(value, safe=""), slug=quote(value, safe=""), n=quote(number, safe="")
    )


BUILDER_KEYS = ["count", "mode", "essays", "tags", "types", "csrf_token"]
BUILDER_VALUES = [
    "3",
    "50",
    "51",
    "0",
    "practice",
    "exam",
    "cloze",
    "matching",
    "short_answer",
    "humanitarian",
    "challenges",
    "cooperation-peacekeeping-missions",
]


def test_random_posts_to_start_build_finish_and_retry_never_5xx(
    hostile_app: Flask, record_property: Callable[[str, object], None]
) -> None:
    app = hostile_app
    stranger = app.test_client()
    elsewhere = start(stranger, "fx-exam")
    tried = STATS["inputs tried"]
    values = st.one_of(
        st.sampled_from(BUILDER_VALUES),
        st.sampled_from(HOSTILE_VALUES),
        long_text,
        hostile_text,
        st.integers(-(10**20), 10**20).map(str),
    )
    keys = st.one_of(st.sampled_from(BUILDER_KEYS + TAMPER_KEYS), hostile_text)

    @settings(HYPOTHESIS, max_examples=100)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        client = app.test_client()
        route = data.draw(
            st.sampled_from(["start", "build", "finish", "retry"]), label="route"
        )
        target = data.draw(
            st.one_of(
                st.sampled_from(["own", elsewhere, "fx-exam", "fx-practice"]),
                token_like,
                hostile_text.filter(bool),
            ),
            label="target",
        )
        if target == "own":  # a fresh exam attempt: unanswered, half done or over
            target = start(client, "fx-exam")
            if data.draw(st.booleans(), label="answer one"):
                answer(client, app, target, 1, correct=data.draw(st.booleans()))
            if data.draw(st.booleans(), label="finished"):
                client.post(attempt_path(target, "/finish"))
        form = MultiDict(
            data.draw(st.lists(st.tuples(keys, values), max_size=8), label="form")
        )
        path, allowed = {
            "start": (f"/quizzes/{quote(target, safe='')}/start", {302, 404}),
            "build": ("/build", {302, 400}),
            "finish": (attempt_path(target, "/finish"), {302, 404}),
            "retry": (attempt_path(target, "/retry"), {302, 404, 409}),
        }[route]
        allowed |= ROUTING_REDIRECTS | {413}
        send(app, client, "POST", path, allowed, form=form)

    run()
    record_property("inputs_tried", STATS["inputs tried"] - tried)


def json_containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """JSON arrays and objects of `inner`; object keys mostly our field names."""
    keys = st.one_of(st.sampled_from(BUILDER_KEYS + ANSWER_KEYS), hostile_text)
    return st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)
    )


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        hostile_text,
    ),
    json_containers,
    max_leaves=8,
)


def test_json_bodies_to_form_routes_are_refused_with_4xx(
    record_property: Callable[[str, object], None],
) -> None:
    """CSRF on, as in production: a JSON body is never a valid form post."""
    app = make_app(WTF_CSRF_ENABLED=True, **HIGH_LIMITS)
    load_content(app)
    client = app.test_client()
    token = csrf_token(client)
    reply = client.post("/quizzes/fx-exam/start", data={"csrf_token": token})
    own = reply.headers["Location"].rsplit("/", 1)[-1]
    routes = [
        "/quizzes/fx-exam/start",
        "/build",
        attempt_path(own, "/q/1"),
        attempt_path(own, "/finish"),
        attempt_path(own, "/retry"),
    ]
    tried = STATS["inputs tried"]

    @settings(HYPOTHESIS, max_examples=80)
    @given(
        path=st.sampled_from(routes),
        body=st.one_of(json_values, st.binary(max_size=40)),
    )
    @example(path="/build", body={"count": 3, "mode": "practice"})
    @example(path=attempt_path(own, "/q/1"), body={"answer": "x", "version": "0"})
    @example(path="/build", body=b"{not json")
    def run(path: str, body: Any) -> None:
        if isinstance(body, bytes):
            send(app, client, "POST", path, {400, 415}, raw_body=body)
        else:
            send(app, client, "POST", path, {400, 415}, json_body=body)

    try:
        run()
    finally:
        close_app(app)
    record_property("inputs_tried", STATS["inputs tried"] - tried)


def csrf_token(client: FlaskClient) -> str:
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match
    return match.group(1)


# ---------------------------------------------------------------------------------
# The cases the property tests must cover, spelled out.
# ---------------------------------------------------------------------------------


def test_an_answer_post_missing_its_answer_fields_is_400_for_every_type(
    hostile_app: Flask,
) -> None:
    client = hostile_app.test_client()
    for qtype in FIXTURE_TYPES:
        attempt_id = build(client, qtype)
        path = attempt_path(attempt_id, "/q/1")
        form = MultiDict({"version": "0"})
        reply = send(hostile_app, client, "POST", path, {400}, form=form)
        assert "<form" in reply.get_data(as_text=True), qtype  # the form, re-shown
    assert count_rows(hostile_app, Response) == 0


def test_an_answer_post_missing_its_version_is_a_first_answer_only(
    hostile_app: Flask,
) -> None:
    client = hostile_app.test_client()
    attempt_id = build(client, "single_choice", "exam")
    question = question_at(hostile_app, attempt_id, 1)
    path = attempt_path(attempt_id, "/q/1")
    right = MultiDict(payload(question, correct=True))
    send(hostile_app, client, "POST", path, {302}, form=right)
    # Without a version the page claims to have seen no answer: stale now.
    wrong = MultiDict(payload(question, correct=False))
    send(hostile_app, client, "POST", path, {409}, form=wrong)
    with hostile_app.app_context():
        assert db.session.scalar(select(Response.score)) == 1.0


def test_repeated_fields_count_once_and_the_first_value_wins(
    hostile_app: Flask,
) -> None:
    client = hostile_app.test_client()
    for qtype in ["single_choice", "true_false", "short_answer"]:
        attempt_id = build(client, qtype)
        question = question_at(hostile_app, attempt_id, 1)
        wrong = payload(question, correct=False)["answer"]
        right = payload(question, correct=True)["answer"]
        form = MultiDict(
            [("version", "0"), ("answer", wrong), ("answer", right), ("version", "7")]
        )
        path = attempt_path(attempt_id, "/q/1")
        send(hostile_app, client, "POST", path, {302}, form=form)
        with hostile_app.app_context():
            stored = db.session.scalars(
                select(Response).where(Response.attempt_id == attempt_id)
            ).one()
            assert (stored.score, stored.version) == (0.0, 1), qtype


def test_repeated_choices_in_a_multiple_response_answer_are_stored_once(
    hostile_app: Flask,
) -> None:
    client = hostile_app.test_client()
    attempt_id = build(client, "multiple_response")
    question = question_at(hostile_app, attempt_id, 1)
    keys = payload(question, correct=True)["answer"]
    form = MultiDict([("version", "0")] + [("answer", k) for k in keys * 50])
    path = attempt_path(attempt_id, "/q/1")
    send(hostile_app, client, "POST", path, {302}, form=form)
    with hostile_app.app_context():
        stored = db.session.scalars(select(Response)).one()
        assert stored.answer == {"choices": sorted(keys)}
        assert stored.score == 1.0


def test_choice_ids_of_other_questions_are_refused_with_400(
    hostile_app: Flask,
) -> None:
    client = hostile_app.test_client()
    everything = all_questions(hostile_app)
    for qtype in ["single_choice", "true_false", "multiple_response", "matching"]:
        attempt_id = build(client, qtype)
        question = question_at(hostile_app, attempt_id, 1)
        own = set(option_ids(question))
        foreign = [i for q in everything for i in option_ids(q) if i not in own]
        path = attempt_path(attempt_id, "/q/1")
        for other in foreign:
            form = MultiDict([("version", "0"), *payload(question).items()])
            if qtype == "matching":
                form[next(k for k in form if k.startswith("match_"))] = other
            elif qtype == "multiple_response":
                form.setlist("answer", [*form.getlist("answer"), other])
            else:
                form["answer"] = other
            send(hostile_app, client, "POST", path, {400}, form=form)
    assert count_rows(hostile_app, Response) == 0


def test_negative_zero_and_huge_numbers_and_ids_in_urls_are_404(
    hostile_app: Flask,
) -> None:
    client = hostile_app.test_client()
    attempt_id = build(client, "single_choice")
    question = question_at(hostile_app, attempt_id, 1)
    form = MultiDict({"version": "0", **payload(question)})
    for number in ["-1", "0", "2", "99999999999999999999", "-99999999999999999999"]:
        path = attempt_path(attempt_id, f"/q/{number}")
        send(hostile_app, client, "GET", path, {404})
        send(hostile_app, client, "POST", path, {404}, form=form)
    for bad_id in ["-1", "0", "99999999999999999999", "x" * 300]:
        for suffix in ["", "/q/1", "/finish", "/results", "/missed.apkg"]:
            send(hostile_app, client, "GET", attempt_path(bad_id, suffix), {404})
        for suffix in ["/q/1", "/finish", "/retry"]:
            path = attempt_path(bad_id, suffix)
            send(hostile_app, client, "POST", path, {404}, form=form)
    assert count_rows(hostile_app, Response) == 0


C0_CONTROLS = ["\x00", "\x01", "\x08", "\x0b", "\x1b", "\n", "\r"]


@pytest.mark.parametrize("qtype", ["short_answer", "cloze"])
def test_nul_and_control_characters_in_typed_answers_are_400_and_never_stored(
    hostile_app: Flask, qtype: str
) -> None:
    """On both engines: PostgreSQL refuses NUL in text, so it must never reach it."""
    client = hostile_app.test_client()
    attempt_id = build(client, qtype)
    question = question_at(hostile_app, attempt_id, 1)
    path = attempt_path(attempt_id, "/q/1")
    right = payload(question, correct=True)
    key = "answer" if qtype == "short_answer" else "blank_1"
    text = right[key]
    for char in C0_CONTROLS:
        typed = [f"{text}{char}", f"{char}{text}", f"{text[:2]}{char}{text[2:]}"]
        typed.append(char * 150 + text)
        if not char.isspace():  # a blank of only whitespace counts as empty
            typed.append(char)
        for value in typed:
            form = MultiDict({"version": "0", **right, key: value})
            reply = send(hostile_app, client, "POST", path, {400}, form=form)
            assert "Remove the control characters" in reply.get_data(as_text=True)
    assert count_rows(hostile_app, Response) == 0
    # The page stays usable: the clean answer goes through.
    clean = MultiDict({"version": "0", **right})
    send(hostile_app, client, "POST", path, {302}, form=clean)


def test_del_and_c1_control_characters_in_typed_answers_are_refused(
    hostile_app: Flask,
) -> None:
    client = hostile_app.test_client()
    for char in ["\x7f", "\x85", "\x9b"]:
        attempt_id = build(client, "short_answer")
        form = MultiDict({"version": "0", "answer": f"Hai{char}ti"})
        path = attempt_path(attempt_id, "/q/1")
        send(hostile_app, client, "POST", path, {400}, form=form)


def test_ten_thousand_character_answers_are_refused_with_400_or_413(
    hostile_app: Flask,
) -> None:
    client = hostile_app.test_client()
    for qtype in ["short_answer", "cloze"]:
        attempt_id = build(client, qtype)
        key = "answer" if qtype == "short_answer" else "blank_1"
        path = attempt_path(attempt_id, "/q/1")
        # 10,000 "x" or "é" fit the 64 KiB body limit: the form refuses them (400);
        # 10,000 "💥" are 120 KB once form-encoded: refused before parsing (413).
        for char, status in [("x", 400), ("é", 400), ("\x00", 400), ("💥", 413)]:
            form = MultiDict({"version": "0", key: ten_thousand(char)})
            send(hostile_app, client, "POST", path, {status}, form=form)
    assert count_rows(hostile_app, Response) == 0


def accented_content(tmp_path: Path, authored: str) -> Path:
    """The fixture bank, with accented accepted answers written in `authored` form."""
    folder = tmp_path / authored
    shutil.copytree(FIXTURE_CONTENT, folder)
    questions = folder / "questions" / "cooperation-peacekeeping-missions.yaml"
    text = questions.read_text(encoding="utf-8")
    extra = unicodedata.normalize(authored, "République d’Haïti")
    blank = unicodedata.normalize(authored, "militaires déployés")
    text = text.replace(
        "answers: [Haiti, Republic of Haiti]",
        f'answers: [Haiti, Republic of Haiti, "{extra}"]',
    ).replace("[[military personnel|soldiers]]", f"[[military personnel|{blank}]]")
    assert extra in text and blank in text
    questions.write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("authored", ["NFC", "NFD"])
def test_nfd_and_nfc_forms_of_an_accepted_answer_get_full_marks(
    tmp_path: Path, authored: str
) -> None:
    content = accented_content(tmp_path, authored)
    app = make_app(content, **HIGH_LIMITS)
    try:
        load_content(app, content)
        client = app.test_client()
        for typed in ["NFC", "NFD"]:
            short = {"answer": unicodedata.normalize(typed, "république d’haïti")}
            cloze = {
                "blank_1": unicodedata.normalize(typed, "Militaires Déployés"),
                "blank_2": "instability",
            }
            for qtype, form in [("short_answer", short), ("cloze", cloze)]:
                assert any(
                    unicodedata.normalize(typed, "é") in v for v in form.values()
                )
                attempt_id = build(client, qtype)
                path = attempt_path(attempt_id, "/q/1")
                form = MultiDict({"version": "0", **form})
                send(app, client, "POST", path, {302}, form=form)
                with app.app_context():
                    score = db.session.scalar(
                        select(Response.score).where(Response.attempt_id == attempt_id)
                    )
                assert score == 1.0, (authored, typed, qtype)
    finally:
        close_app(app)


# (path template, methods it answers); every other method must get a 405.
ROUTE_METHODS: list[tuple[str, set[str]]] = [
    ("/", {"GET"}),
    ("/healthz", {"GET"}),
    ("/build", {"GET", "POST"}),
    ("/quizzes/fx-practice/start", {"POST"}),
    ("/attempts/{id}", {"GET"}),
    ("/attempts/{id}/q/1", {"GET", "POST"}),
    ("/attempts/{id}/finish", {"GET", "POST"}),
    ("/attempts/{id}/results", {"GET"}),
    ("/attempts/{id}/retry", {"POST"}),
    ("/attempts/{id}/missed.apkg", {"GET"}),
    ("/essays/cooperation-peacekeeping-missions", {"GET"}),
    ("/decks/bank.apkg", {"GET"}),
    ("/decks/essays/cooperation-peacekeeping-missions.apkg", {"GET"}),
    ("/decks/quizzes/fx-exam.apkg", {"GET"}),
]


def test_wrong_methods_are_405_and_change_nothing(
    hostile_app: Flask, record_property: Callable[[str, object], None]
) -> None:
    client = hostile_app.test_client()
    attempt_id = build(client, "single_choice", "exam")
    question = question_at(hostile_app, attempt_id, 1)
    # A body that would be a valid answer, finish or start if the method were right.
    form = MultiDict({"version": "0", **payload(question), "count": "3"})
    tried = 0
    for template, methods in ROUTE_METHODS:
        path = template.format(id=attempt_id)
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"]:
            if method in methods:
                continue
            body = form if method != "GET" else None
            reply = send(hostile_app, client, method, path, {405}, form=body)
            assert "not available at this address" in reply.get_data(as_text=True)
            tried += 1
    assert count_rows(hostile_app, Response) == 0
    assert attempt_row(hostile_app, attempt_id).finished_at is None
    record_property("inputs_tried", tried)


def test_head_on_a_question_page_is_a_read_that_saves_nothing(
    hostile_app: Flask,
) -> None:
    client = hostile_app.test_client()
    attempt_id = build(client, "single_choice")
    question = question_at(hostile_app, attempt_id, 1)
    path = attempt_path(attempt_id, "/q/1")
    form = MultiDict({"version": "0", **payload(question)})
    reply = client.open(path, method="HEAD", data=form)
    assert count_rows(hostile_app, Response) == 0
    assert reply.status_code == 200
    assert client.head(path).status_code == 200


def test_non_ascii_digits_in_the_version_field_are_400(hostile_app: Flask) -> None:
    client = hostile_app.test_client()
    attempt_id = build(client, "single_choice")
    question = question_at(hostile_app, attempt_id, 1)
    path = attempt_path(attempt_id, "/q/1")
    for version in ["²", "¹", "³²"]:
        reply = client.post(path, data={**payload(question), "version": version})
        assert reply.status_code == 400, version
        assert "Reload the page" in reply.get_data(as_text=True)
    assert count_rows(hostile_app, Response) == 0


NUL_PATHS = [
    ("GET", "/attempts/%00"),
    ("GET", "/attempts/%00/q/1"),
    ("GET", "/attempts/%00/finish"),
    ("GET", "/attempts/%00/results"),
    ("GET", "/attempts/%00/missed.apkg"),
    ("POST", "/attempts/%00/q/1"),
    ("POST", "/attempts/%00/finish"),
    ("POST", "/attempts/%00/retry"),
    ("POST", "/quizzes/%00/start"),
    ("GET", "/essays/%00"),
    ("GET", "/essays/x%00y"),
    ("GET", "/decks/essays/%00.apkg"),
    ("GET", "/decks/quizzes/%00.apkg"),
]


def test_nul_in_url_ids_and_slugs_is_404_on_both_engines(hostile_app: Flask) -> None:
    client = hostile_app.test_client()
    build(client, "single_choice")  # with a learner, so attempt ids are looked up
    for method, path in NUL_PATHS:
        assert client.open(path, method=method).status_code == 404, (method, path)


@pytest.mark.parametrize("csrf", [False, True])
def test_json_bodies_to_form_routes_are_refused_with_415(csrf: bool) -> None:
    app = make_app(WTF_CSRF_ENABLED=csrf, **HIGH_LIMITS)
    try:
        load_content(app)
        client = app.test_client()
        token = csrf_token(client) if csrf else ""
        reply = client.post("/quizzes/fx-exam/start", data={"csrf_token": token})
        attempt_id = reply.headers["Location"].rsplit("/", 1)[-1]
        paths = [
            "/quizzes/fx-exam/start",
            "/build",
            attempt_path(attempt_id, "/finish"),
            attempt_path(attempt_id, "/retry"),
        ]
        bodies: list[Any] = [[1, 2], "abc", 5, True]
        if csrf:
            bodies += [{"csrf_token": True}, {"csrf_token": 7}, {"csrf_token": [1]}]
        for path in paths:
            for body in bodies:
                status = client.post(path, json=body).status_code
                assert status == 415, (path, body, status)
    finally:
        close_app(app)


def test_json_bodies_with_a_csrf_token_are_refused_by_form_routes() -> None:
    app = make_app(WTF_CSRF_ENABLED=True, **HIGH_LIMITS)
    try:
        load_content(app)
        client = app.test_client()
        token = csrf_token(client)
        reply = client.post("/quizzes/fx-exam/start", data={"csrf_token": token})
        own = reply.headers["Location"].rsplit("/", 1)[-1]
        for path, body in [
            ("/quizzes/fx-practice/start", {}),
            ("/build", {"count": 3, "mode": "practice"}),
            (attempt_path(own, "/finish"), {}),
            (attempt_path(own, "/retry"), {}),
        ]:
            json_body = {**body, "csrf_token": token}
            send(app, client, "POST", path, {415}, json_body=json_body)
    finally:
        close_app(app)
