"""Tampering: forged fields, other learners' attempts, guessed ids, early reviews,
replayed and forged session cookies. Every attempt is counted; none may succeed.

Figures: STATS counts tampering attempts and accepted ones (must be 0); the module
prints one summary line at its end.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from quizapp.extensions import db
from quizapp.models import Attempt, Question, Response, as_utc
from tests.conftest import close_app, count_rows, load_content, make_app
from tests.test_hostile import (
    FIXTURE_TYPES,
    HIGH_LIMITS,
    attempt_path,
    build,
    print_figures,
    send,
    snapshot,
)
from tests.test_quiz import answer, attempt_row, payload, question_at, start

STATS: dict[str, int] = {"tampering attempts": 0, "accepted": 0}
FORGED_FIELDS = {
    "score": "1.0",
    "correct": "true",
    "points": "100",
    "finished_at": "2000-01-01T00:00:00+00:00",
    "started_at": "2000-01-01T00:00:00+00:00",
    "attempt_id": "someone-elses",
    "question_id": "fx-single",
    "position": "99",
    "mode": "practice",
    "version": "0",
}


def refused(label: object, ok: bool) -> None:
    """Count one tampering attempt; it must have been refused (or had no effect)."""
    STATS["tampering attempts"] += 1
    if not ok:
        STATS["accepted"] += 1
    assert ok, label


@pytest.fixture(scope="module", autouse=True)
def report_figures(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    print_figures(request, "test_tampering", STATS)


@pytest.fixture
def quiz_app() -> Iterator[Flask]:
    app = make_app(**HIGH_LIMITS)
    load_content(app)
    yield app
    close_app(app)


def learner_of(client: FlaskClient) -> str | None:
    with client.session_transaction() as session:
        return session.get("learner")


# ---------------------------------------------------------------------------------
# Forged fields.
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["practice", "exam"])
def test_forged_score_fields_in_answer_posts_are_ignored(
    quiz_app: Flask, mode: str
) -> None:
    client, victim = quiz_app.test_client(), quiz_app.test_client()
    start(victim, "fx-exam")
    forged = {**FORGED_FIELDS, "learner_id": learner_of(victim)}
    for qtype in FIXTURE_TYPES:
        for correct in (False, True):
            attempt_id = build(client, qtype, mode)
            question = question_at(quiz_app, attempt_id, 1)
            form = MultiDict(
                {
                    **{k: v for k, v in forged.items() if k != "version"},
                    **payload(question, correct),
                    "version": "0",
                }
            )
            # Forged values first too, in case a repeated key were read last-wins.
            form.setlist("score", ["0" if correct else "1", "1"])
            reply = client.post(attempt_path(attempt_id, "/q/1"), data=form)
            assert reply.status_code == 302
            with quiz_app.app_context():
                stored = db.session.scalars(
                    select(Response).where(Response.attempt_id == attempt_id)
                ).one()
                attempt = db.session.get(Attempt, attempt_id)
                refused(
                    (qtype, correct, "score"),
                    stored.score == (1.0 if correct else 0.0),
                )
                refused(
                    (qtype, "row"),
                    (stored.question_id, stored.position, stored.version)
                    == (question.id, 0, 1),
                )
                refused(
                    (qtype, "attempt"),
                    attempt.finished_at is None
                    and attempt.score is None
                    and attempt.mode == mode
                    and attempt.learner_id == learner_of(client),
                )


def test_forged_fields_in_finish_posts_are_ignored(quiz_app: Flask) -> None:
    client = quiz_app.test_client()
    attempt_id = start(client, "fx-exam")
    answer(client, quiz_app, attempt_id, 1, correct=True)
    answer(client, quiz_app, attempt_id, 2, correct=False)
    before = datetime.now(UTC)
    reply = client.post(attempt_path(attempt_id, "/finish"), data=FORGED_FIELDS)
    assert reply.status_code == 302
    attempt = attempt_row(quiz_app, attempt_id)
    refused("finish score", attempt.score == 0.25)  # one right of four
    finished = as_utc(attempt.finished_at)
    refused("finish time", before - timedelta(seconds=5) <= finished)
    refused("finish mode", attempt.mode == "exam")
    refused("finish responses", count_rows(quiz_app, Response) == 2)


def test_forged_fields_in_start_and_build_posts_are_ignored(quiz_app: Flask) -> None:
    victim = quiz_app.test_client()
    victim_attempt = start(victim, "fx-practice")
    victim_id = learner_of(victim)
    forged = {**FORGED_FIELDS, "learner_id": victim_id, "learner": victim_id}
    forged |= {"mode": "exam", "count": "1", "question_ids": "fx-single"}
    client = quiz_app.test_client()
    attempt_id = start_with(client, "/quizzes/fx-practice/start", forged)
    attempt = attempt_row(quiz_app, attempt_id)
    refused("start learner", attempt.learner_id != victim_id)
    refused("start resumes no one else's attempt", attempt_id != victim_attempt)
    refused("start mode", attempt.mode == "practice")
    refused("start size", len(attempt.layout) == 8)
    refused("start state", attempt.finished_at is None and attempt.score is None)
    built = start_with(
        quiz_app.test_client(),
        "/build",
        {**forged, "count": "2", "mode": "practice", "types": "cloze"},
    )
    attempt = attempt_row(quiz_app, built)
    refused("build learner", attempt.learner_id != victim_id)
    refused("build draw", attempt.question_ids == ["fx-cloze"])
    refused("build state", attempt.finished_at is None and attempt.score is None)
    refused("victim untouched", len(attempt_row(quiz_app, victim_attempt).layout) == 8)


def start_with(client: FlaskClient, path: str, form: dict[str, str]) -> str:
    reply = client.post(path, data=form)
    assert reply.status_code == 302, reply.data
    return reply.headers["Location"].rsplit("/", 1)[-1]


# ---------------------------------------------------------------------------------
# Other learners' attempts and guessed ids.
# ---------------------------------------------------------------------------------


def victim_attempts(app: Flask) -> tuple[FlaskClient, str, str]:
    """A learner with an unfinished practice attempt and a finished exam."""
    victim = app.test_client()
    unfinished = start(victim, "fx-practice")
    answer(victim, app, unfinished, 1, correct=True)
    finished = start(victim, "fx-exam")
    answer(victim, app, finished, 1, correct=False)
    assert victim.post(attempt_path(finished, "/finish")).status_code == 302
    return victim, unfinished, finished


def every_attempt_route(app: Flask, attempt_id: str) -> list[tuple[str, str, Any]]:
    question = question_at(app, attempt_id, 2)
    form = MultiDict({"version": "0", **payload(question)})
    return [
        ("GET", "", None),
        ("GET", "/q/1", None),
        ("GET", "/q/2", None),
        ("POST", "/q/2", form),
        ("GET", "/finish", None),
        ("POST", "/finish", MultiDict()),
        ("GET", "/results", None),
        ("POST", "/retry", MultiDict()),
        ("GET", "/missed.apkg", None),
    ]


def test_another_learners_attempt_answers_404_on_every_route(
    quiz_app: Flask,
) -> None:
    victim, unfinished, finished = victim_attempts(quiz_app)
    stranger = quiz_app.test_client()
    start(stranger, "fx-practice")  # a learner of their own, with an attempt
    for who in (stranger, quiz_app.test_client()):
        for attempt_id in (unfinished, finished):
            for method, suffix, form in every_attempt_route(quiz_app, attempt_id):
                path = attempt_path(attempt_id, suffix)
                reply = send(quiz_app, who, method, path, {404}, form=form)
                refused((method, path), reply.status_code == 404)
    # The owner still gets everything.
    assert victim.get(attempt_path(finished, "/results")).status_code == 200
    assert victim.get(attempt_path(unfinished, "/q/1")).status_code == 200


def test_a_thousand_guessed_attempt_ids_hit_nothing(quiz_app: Flask) -> None:
    victim, unfinished, finished = victim_attempts(quiz_app)
    guesser = quiz_app.test_client()
    start(guesser, "fx-exam")
    guesses = [secrets.token_urlsafe(16) for _ in range(1000)]
    # Near misses of real ids: case, one character, prefixes, padding, wildcards.
    for real in (unfinished, finished):
        guesses += [
            real.swapcase(),
            real.upper(),
            real.lower(),
            real[:-1],
            real[:8],
            real + "x",
            real + " ",
            " " + real,
            real[:-1] + ("A" if real[-1] != "A" else "B"),
            real[:10] + "%",
            "%" + real[4:],
            "_" * len(real),
            "%",
            "*",
        ]
    suffixes = ["", "/q/1", "/finish", "/results", "/missed.apkg"]
    before = snapshot(quiz_app)
    for index, guess in enumerate(guesses):
        if guess in (unfinished, finished):
            continue  # astronomically unlikely; a real id is not a guess
        for who in (guesser, victim) if index >= 1000 else (guesser,):
            path = attempt_path(guess, suffixes[index % len(suffixes)])
            refused(path, who.get(path).status_code == 404)
    assert snapshot(quiz_app) == before


# ---------------------------------------------------------------------------------
# Reviews before the end.
# ---------------------------------------------------------------------------------


def key_material(question: Question) -> list[str]:
    """Texts only a review may show: explanation, note, feedback, source quotes."""
    texts = [question.explanation]
    texts += [question.note] if question.note else []
    options = question.data.get("options", [])
    texts += [o["feedback"] for o in options if o.get("feedback")]
    texts += [source.quote for source in question.sources]
    return texts


def test_review_and_explanations_are_unreachable_before_an_exam_is_finished(
    quiz_app: Flask,
) -> None:
    client = quiz_app.test_client()
    attempt_id = start(client, "fx-exam")
    questions = [question_at(quiz_app, attempt_id, n) for n in range(1, 5)]
    early = [
        "/results",
        "/results?reveal=1",
        "/results?finished=1&mode=practice",
        "/missed.apkg",
    ]
    for number, question in enumerate(questions, start=1):
        path = attempt_path(attempt_id, f"/q/{number}")
        for moment in ("before answering", "after answering"):
            page = client.get(path).get_data(as_text=True)
            for text in key_material(question):
                refused((question.id, moment, text), text not in page)
            refused((question.id, moment), "Correct answer" not in page)
            for suffix in early:
                reply = client.get(attempt_path(attempt_id, suffix))
                expected = 409 if suffix.endswith(".apkg") else 302
                refused((suffix, moment), reply.status_code == expected)
                if expected == 302:
                    location = reply.headers["Location"]
                    refused((suffix, location), location.endswith("/finish"))
            if moment == "before answering":
                answer(client, quiz_app, attempt_id, number, correct=number % 2 == 0)
    finish_page = client.get(attempt_path(attempt_id, "/finish"))
    for question in questions:
        refused("finish page", question.explanation not in finish_page.text)
    client.post(attempt_path(attempt_id, "/finish"))
    review = client.get(attempt_path(attempt_id, "/results")).get_data(as_text=True)
    assert all(q.explanation in review for q in questions)  # the review, at last


# ---------------------------------------------------------------------------------
# Session cookies: replayed and forged.
# ---------------------------------------------------------------------------------


def test_a_restored_older_session_cookie_cannot_reopen_a_finished_attempt(
    quiz_app: Flask,
) -> None:
    client = quiz_app.test_client()
    attempt_id = start(client, "fx-exam")
    answer(client, quiz_app, attempt_id, 1, correct=False)
    saved = client.get_cookie("session")  # the cookie before finishing
    assert saved is not None
    client.post(attempt_path(attempt_id, "/finish"))
    finished = attempt_row(quiz_app, attempt_id)
    client.set_cookie("session", saved.value)
    before = snapshot(quiz_app)
    second = MultiDict(
        {"version": "0", **payload(question_at(quiz_app, attempt_id, 2))}
    )
    first = MultiDict({"version": "1", **payload(question_at(quiz_app, attempt_id, 1))})
    for number, form in ((2, second), (1, first)):
        path = attempt_path(attempt_id, f"/q/{number}")
        reply = send(quiz_app, client, "POST", path, {409}, form=form)
        refused(("replayed answer", number), reply.status_code == 409)
        refused("says finished", "finished" in reply.get_data(as_text=True))
    again = client.post(attempt_path(attempt_id, "/finish"))
    assert again.status_code == 302
    after = attempt_row(quiz_app, attempt_id)
    refused(
        "finish again", (after.score, after.finished_at) == (0.0, finished.finished_at)
    )
    refused("nothing stored", snapshot(quiz_app) == before)
    # A cookie from before the attempt existed holds no learner at all.
    fresh = quiz_app.test_client()
    reply = fresh.post(attempt_path(attempt_id, "/q/2"), data=second)
    refused("cookie-less replay", reply.status_code == 404)


def forged_cookies(victim_id: str, stranger_cookie: str) -> list[str]:
    """Session cookies claiming to be the victim, none signed with the app's key."""
    forger = Flask("forger")
    forger.secret_key = "an-attackers-guess-at-the-secret-key"
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    claim = json.dumps({"learner": victim_id}, separators=(",", ":")).encode()
    bare = base64.urlsafe_b64encode(claim).decode().rstrip("=")
    _payload, timestamp, signature = stranger_cookie.rsplit(".", 2)
    return [
        serializer.dumps({"learner": victim_id}),  # signed with another key
        bare,  # unsigned
        f"{bare}.{timestamp}.{signature}",  # someone else's signature
        f"{bare}..",
        f"{stranger_cookie[:-2]}xx",  # the stranger's cookie, signature bent
        json.dumps({"learner": victim_id}),
        victim_id,
        "",
        "." * 10,
        "x" * 3000,
    ]


def test_a_forged_or_unsigned_session_cookie_is_ignored(quiz_app: Flask) -> None:
    victim, unfinished, finished = victim_attempts(quiz_app)
    victim_id = learner_of(victim)
    assert victim_id
    stranger = quiz_app.test_client()
    start(stranger, "fx-exam")
    stranger_cookie = stranger.get_cookie("session")
    assert stranger_cookie is not None
    before = snapshot(quiz_app)
    for cookie in forged_cookies(victim_id, stranger_cookie.value):
        client = quiz_app.test_client()
        client.set_cookie("session", cookie)
        for attempt_id in (unfinished, finished):
            for method, suffix, form in every_attempt_route(quiz_app, attempt_id):
                path = attempt_path(attempt_id, suffix)
                reply = send(quiz_app, client, method, path, {404}, form=form)
                refused((cookie[:40], method, path), reply.status_code == 404)
        refused(("catalogue", cookie[:40]), unfinished not in client.get("/").text)
        assert snapshot(quiz_app) == before
    # Starting with a forged cookie makes a new anonymous learner, not the victim.
    client = quiz_app.test_client()
    client.set_cookie("session", forged_cookies(victim_id, "a.b.c")[0])
    mine = start(client, "fx-practice")
    refused("new learner", learner_of(client) not in (None, victim_id))
    refused("not resumed", mine != unfinished)
