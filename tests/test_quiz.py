"""Taking quizzes through the test client: modes, resume, retry, integrity rules."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, Question, Response
from tests.conftest import (
    BANK_CONTENT,
    count_rows,
    detached_row,
    load_content,
    make_app,
)


def start(client: FlaskClient, slug: str = "fx-practice") -> str:
    """Start a quiz and return the attempt id from the redirect."""
    reply = client.post(f"/quizzes/{slug}/start")
    assert reply.status_code == 302, reply.data
    match = re.search(r"/attempts/([\w-]+)", reply.headers["Location"])
    assert match
    return match.group(1)


def attempt_row(app: Flask, attempt_id: str) -> Attempt:
    """An attempt row, detached with its plain columns loaded."""
    return detached_row(app, Attempt, attempt_id)


def question_at(app: Flask, attempt_id: str, number: int) -> Question:
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        question = db.session.get(Question, attempt.question_ids[number - 1])
        assert question.sources is not None  # loaded before detaching
        db.session.expunge(question)
        return question


def payload(question: Question, correct: bool = True) -> dict[str, Any]:
    """Form data answering `question` right (or wrong)."""
    data = question.data
    if question.type in ("single_choice", "true_false"):
        option = next(o for o in data["options"] if o["correct"] is correct)
        return {"answer": option["id"]}
    if question.type == "multiple_response":
        return {"answer": [o["id"] for o in data["options"] if o["correct"] is correct]}
    if question.type == "short_answer":
        return {"answer": data["answers"][0] if correct else "something else"}
    if question.type == "cloze":
        return {
            f"blank_{i + 1}": (b[0] if correct else "wrong")
            for i, b in enumerate(data["blanks"])
        }
    if question.type == "ordering":
        items = data["items"] if correct else list(reversed(data["items"]))
        return {f"position_{item['id']}": str(n) for n, item in enumerate(items, 1)}
    if question.type == "numeric":
        low = data["range"][0] if "range" in data else data["answer"]
        return {"answer": low if correct else str(Decimal(low) + 1000)}
    pairs = data["pairs"]
    return {
        f"match_{p['id']}": pairs[i if correct else (i + 1) % len(pairs)]["right_id"]
        for i, p in enumerate(pairs)
    }


def answer(
    client: FlaskClient,
    app: Flask,
    attempt_id: str,
    number: int,
    correct: bool = True,
    **extra: Any,
) -> Any:
    question = question_at(app, attempt_id, number)
    form = {"version": "0", **payload(question, correct), **extra}
    return client.post(f"/attempts/{attempt_id}/q/{number}", data=form)


def text_of(reply: Any) -> str:
    return reply.get_data(as_text=True)


def test_catalogue_lists_quizzes_with_size_mode_and_essays(loaded_app, client):
    page = text_of(client.get("/"))
    assert "Fixture practice" in page
    assert "Fixture exam" in page
    assert re.search(r"<dt>Questions</dt><dd>8</dd>", page)  # practice: all eight
    assert re.search(r"<dt>Questions</dt><dd>4</dd>", page)  # exam draws four
    assert "at the end (exam)" in page
    assert "International Cooperation: Peacekeeping Missions" in page
    assert "not taken yet" in page


def test_practice_quiz_gives_feedback_after_each_answer_then_results(
    loaded_app, client
):
    attempt_id = start(client)
    total = len(attempt_row(loaded_app, attempt_id).layout)
    assert total == 8
    for number in range(1, total + 1):
        question = question_at(loaded_app, attempt_id, number)
        reply = answer(client, loaded_app, attempt_id, number, correct=number != 1)
        assert reply.status_code == 302
        assert reply.headers["Location"].endswith(f"/q/{number}")
        page = text_of(client.get(f"/attempts/{attempt_id}/q/{number}"))
        assert ("Incorrect" if number == 1 else "Correct") in page
        assert question.explanation in page
        assert "/essays/cooperation-peacekeeping-missions?from=" in page
    reply = client.post(f"/attempts/{attempt_id}/finish")
    assert reply.status_code == 302
    page = text_of(client.get(f"/attempts/{attempt_id}/results"))
    assert "88%" in page  # seven of eight
    assert "Retry the 1 question I missed" in page
    assert "Time taken" in page
    assert page.count('class="panel review-item"') == 8


def test_exam_reveals_nothing_until_finished(loaded_app, client):
    attempt_id = start(client, "fx-exam")
    attempt = attempt_row(loaded_app, attempt_id)
    assert attempt.mode == "exam"
    assert len(attempt.layout) == 4
    for number in range(1, 5):
        question = question_at(loaded_app, attempt_id, number)
        reply = answer(client, loaded_app, attempt_id, number)
        target = "/finish" if number == 4 else f"/q/{number + 1}"
        assert reply.headers["Location"].endswith(target)
        page = text_of(client.get(f"/attempts/{attempt_id}/q/{number}"))
        assert question.explanation not in page
        assert "Correct answer" not in page
        assert "Save answer" in page  # still editable before finishing
        results = client.get(f"/attempts/{attempt_id}/results")
        assert results.status_code == 302  # no review before finishing
    client.post(f"/attempts/{attempt_id}/finish")
    page = text_of(client.get(f"/attempts/{attempt_id}/results"))
    assert "100%" in page
    assert question.explanation in page


def test_exam_answer_can_be_changed_until_finish(loaded_app, client):
    attempt_id = start(client, "fx-exam")
    answer(client, loaded_app, attempt_id, 1, correct=False)
    question = question_at(loaded_app, attempt_id, 1)
    form = {"version": "1", **payload(question, correct=True)}
    reply = client.post(f"/attempts/{attempt_id}/q/1", data=form)
    assert reply.status_code == 302
    with loaded_app.app_context():
        response = db.session.scalar(select(Response))
        assert response.score == 1.0
        assert response.version == 2


def test_start_twice_resumes_the_same_attempt(loaded_app, client):
    first = start(client)
    answer(client, loaded_app, first, 1)
    assert start(client) == first
    reply = client.get(f"/attempts/{first}")
    assert reply.headers["Location"].endswith(f"/attempts/{first}/q/2")
    assert count_rows(loaded_app, Attempt) == 1


def test_reload_shows_the_same_option_order(loaded_app, client):
    attempt_id = start(client)
    pages = [text_of(client.get(f"/attempts/{attempt_id}/q/{n}")) for n in (1, 2)]
    again = [text_of(client.get(f"/attempts/{attempt_id}/q/{n}")) for n in (1, 2)]
    order = [re.findall(r'value="([0-9a-f]{10})"', page) for page in pages]
    assert order == [re.findall(r'value="([0-9a-f]{10})"', p) for p in again]


def test_another_learners_attempt_answers_404(loaded_app, client):
    attempt_id = start(client)
    answer(client, loaded_app, attempt_id, 1)
    client.post(f"/attempts/{attempt_id}/finish")
    stranger = loaded_app.test_client()
    stranger.get("/")
    for method, path in [
        ("get", f"/attempts/{attempt_id}"),
        ("get", f"/attempts/{attempt_id}/q/1"),
        ("post", f"/attempts/{attempt_id}/q/2"),
        ("get", f"/attempts/{attempt_id}/finish"),
        ("post", f"/attempts/{attempt_id}/finish"),
        ("get", f"/attempts/{attempt_id}/results"),
        ("post", f"/attempts/{attempt_id}/retry"),
        ("get", f"/attempts/{attempt_id}/missed.apkg"),
    ]:
        reply = getattr(stranger, method)(path)
        assert reply.status_code == 404, (method, path)
    assert count_rows(loaded_app, Response) == 1


def test_double_submit_stores_one_response(loaded_app, client):
    attempt_id = start(client)
    first = answer(client, loaded_app, attempt_id, 1)
    second = answer(client, loaded_app, attempt_id, 1)
    assert first.status_code == second.status_code == 302
    with loaded_app.app_context():
        responses = db.session.scalars(select(Response)).all()
        assert len(responses) == 1
        assert responses[0].version == 1


def test_stale_page_cannot_overwrite_a_newer_answer(loaded_app, client):
    attempt_id = start(client, "fx-exam")
    answer(client, loaded_app, attempt_id, 1, correct=True)
    # A second tab still shows version 0 and posts a different answer.
    reply = answer(client, loaded_app, attempt_id, 1, correct=False)
    assert reply.status_code == 409
    assert "answered in another tab" in text_of(reply)
    with loaded_app.app_context():
        assert db.session.scalar(select(Response.score)) == 1.0


def test_practice_answer_is_final_once_feedback_was_shown(loaded_app, client):
    attempt_id = start(client)
    answer(client, loaded_app, attempt_id, 1, correct=False)
    question = question_at(loaded_app, attempt_id, 1)
    form = {"version": "1", **payload(question, correct=True)}
    reply = client.post(f"/attempts/{attempt_id}/q/1", data=form)
    assert reply.status_code == 409
    with loaded_app.app_context():
        assert db.session.scalar(select(Response.score)) == 0.0


def test_answers_after_finish_are_refused_and_finishing_twice_is_harmless(
    loaded_app, client
):
    attempt_id = start(client)
    answer(client, loaded_app, attempt_id, 1)
    client.post(f"/attempts/{attempt_id}/finish")
    finished = attempt_row(loaded_app, attempt_id)
    reply = answer(client, loaded_app, attempt_id, 2)
    assert reply.status_code == 409
    assert "finished" in text_of(reply)
    again = client.post(f"/attempts/{attempt_id}/finish")
    assert again.status_code == 302
    after = attempt_row(loaded_app, attempt_id)
    assert (after.score, after.finished_at) == (finished.score, finished.finished_at)
    assert count_rows(loaded_app, Response) == 1


@pytest.mark.parametrize(
    ("number", "form", "status", "message"),
    [
        (None, {"version": "0"}, 400, "Choose one of the options"),
        (None, {"version": "0", "answer": "0000000000"}, 400, "Not a valid choice"),
        (None, {"version": "abc", "answer": "KEY"}, 400, "Reload the page"),
        (99, {"version": "0"}, 404, "nothing here"),
    ],
)
def test_bad_answer_posts_get_a_4xx_page_with_a_message(
    loaded_app, client, number, form, status, message
):
    attempt_id = start(client)
    single = next(
        n
        for n in range(1, 9)
        if question_at(loaded_app, attempt_id, n).type == "single_choice"
    )
    if form.get("answer") == "KEY":
        form["answer"] = payload(question_at(loaded_app, attempt_id, single))["answer"]
    reply = client.post(f"/attempts/{attempt_id}/q/{number or single}", data=form)
    assert reply.status_code == status
    assert message in text_of(reply)
    assert count_rows(loaded_app, Response) == 0


def test_a_choice_id_from_another_question_is_refused(loaded_app, client):
    attempt_id = start(client)
    questions = [question_at(loaded_app, attempt_id, n) for n in range(1, 9)]
    single = next(i for i, q in enumerate(questions) if q.type == "single_choice")
    multi = next(q for q in questions if q.type == "multiple_response")
    foreign = multi.data["options"][0]["id"]
    reply = client.post(
        f"/attempts/{attempt_id}/q/{single + 1}",
        data={"version": "0", "answer": foreign},
    )
    assert reply.status_code == 400
    assert count_rows(loaded_app, Response) == 0


def test_oversized_body_is_refused_with_413(loaded_app, client):
    attempt_id = start(client)
    reply = client.post(
        f"/attempts/{attempt_id}/q/1", data={"answer": "x" * 100_000, "version": "0"}
    )
    assert reply.status_code == 413
    assert "Shorten it" in text_of(reply)


def test_expired_csrf_token_keeps_the_typed_answer():
    app = make_app(WTF_CSRF_ENABLED=True)
    load_content(app)
    client = app.test_client()
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', text_of(client.get("/"))
    )
    assert token
    attempt_id = start_with_token(client, token.group(1))
    number = next(
        n for n in range(1, 9) if question_at(app, attempt_id, n).type == "short_answer"
    )
    reply = client.post(
        f"/attempts/{attempt_id}/q/{number}",
        data={"version": "0", "answer": "Port-au-Prince", "csrf_token": "expired"},
    )
    assert reply.status_code == 400
    page = text_of(reply)
    assert "security token expired" in page
    assert 'value="Port-au-Prince"' in page
    assert count_rows(app, Response) == 0


def start_with_token(client: FlaskClient, token: str) -> str:
    reply = client.post("/quizzes/fx-practice/start", data={"csrf_token": token})
    assert reply.status_code == 302
    return reply.headers["Location"].rsplit("/", 1)[-1]


def test_start_without_csrf_token_is_refused_when_csrf_is_on():
    app = make_app(WTF_CSRF_ENABLED=True)
    load_content(app)
    reply = app.test_client().post("/quizzes/fx-practice/start")
    assert reply.status_code == 400
    assert "expired" in text_of(reply)
    assert count_rows(app, Attempt) == 0


def test_retry_missed_starts_a_practice_attempt_of_just_those(loaded_app, client):
    attempt_id = start(client, "fx-exam")
    answer(client, loaded_app, attempt_id, 1, correct=False)
    answer(client, loaded_app, attempt_id, 2, correct=True)
    client.post(f"/attempts/{attempt_id}/finish")
    exam = attempt_row(loaded_app, attempt_id)
    reply = client.post(f"/attempts/{attempt_id}/retry")
    retry_id = reply.headers["Location"].rsplit("/", 1)[-1]
    retry = attempt_row(loaded_app, retry_id)
    assert retry.mode == "practice"
    assert sorted(retry.question_ids) == sorted(
        [exam.question_ids[0], *exam.question_ids[2:]]
    )


def test_builder_draws_only_the_chosen_type_and_count(loaded_app, client):
    reply = client.post(
        "/build", data={"types": ["cloze", "matching"], "count": "5", "mode": "exam"}
    )
    assert reply.status_code == 302
    attempt = attempt_row(loaded_app, reply.headers["Location"].rsplit("/", 1)[-1])
    assert attempt.mode == "exam"
    assert sorted(attempt.question_ids) == ["fx-cloze", "fx-matching"]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"count": "0", "mode": "practice"}, "between 1 and 50"),
        ({"count": "many", "mode": "practice"}, "Not a valid integer"),
        (
            {"count": "3", "mode": "practice", "essays": "atlantis"},
            "not a valid choice",
        ),
        ({"count": "3", "mode": "practice", "tags": "absent"}, "not a valid choice"),
        ({"count": "3", "mode": "sudden-death"}, "Not a valid choice"),
    ],
)
def test_builder_refuses_bad_choices_with_a_message(loaded_app, client, form, message):
    reply = client.post("/build", data=form)
    assert reply.status_code == 400
    assert message in text_of(reply)
    assert count_rows(loaded_app, Attempt) == 0


def test_essay_page_anchors_passages_and_lists_their_questions(loaded_app, client):
    page = text_of(
        client.get("/essays/cooperation-peacekeeping-missions?from=fx-single")
    )
    for number in range(1, 9):
        assert f'id="p-{number}"' in page
    assert 'class="passage cited" id="p-5"' in page
    assert "Which humanitarian task is this?" in page
    assert client.get("/essays/atlantis").status_code == 404


def test_retired_questions_are_not_drawn_but_old_results_still_show(loaded_app, client):
    attempt_id = start(client)
    answer(client, loaded_app, attempt_id, 1)
    client.post(f"/attempts/{attempt_id}/finish")
    with loaded_app.app_context():
        db.session.get(Question, "fx-single").retired = True
        db.session.commit()
    assert client.get(f"/attempts/{attempt_id}/results").status_code == 200
    new = loaded_app.test_client()
    new_id = start(new)
    assert "fx-single" not in attempt_row(loaded_app, new_id).question_ids


def test_best_score_appears_on_the_catalogue(loaded_app, client):
    attempt_id = start(client)
    for number in range(1, 9):
        answer(client, loaded_app, attempt_id, number)
    client.post(f"/attempts/{attempt_id}/finish")
    page = text_of(client.get("/"))
    assert re.search(r"<dt>Your best</dt><dd>100%</dd>", page)


def test_no_question_page_holds_key_material_before_answering():
    """Every question of the real bank, unanswered: no key, feedback or explanation."""
    app = make_app(BANK_CONTENT)
    load_content(app, BANK_CONTENT)
    client = app.test_client()
    reply = client.post("/build", data={"count": "50", "mode": "practice"})
    with app.app_context():
        total = len(db.session.scalars(select(Question.id)).all())
    seen = 0
    while True:
        attempt_id = reply.headers["Location"].rsplit("/", 1)[-1]
        attempt = attempt_row(app, attempt_id)
        for number in range(1, len(attempt.layout) + 1):
            question = question_at(app, attempt_id, number)
            page = text_of(client.get(f"/attempts/{attempt_id}/q/{number}"))
            assert_no_key_material(page, question)
            seen += 1
        if seen >= total:
            break
        reply = client.post("/build", data={"count": "50", "mode": "practice"})
    assert seen >= total


def assert_no_key_material(page: str, question: Question) -> None:
    body = page.replace(question.prompt, "")
    assert question.explanation not in page, question.id
    assert "Correct answer" not in page
    assert "correct" not in re.sub(r"(?s)<footer.*", "", body).lower(), question.id
    for option in question.data.get("options", []):
        if option.get("feedback"):
            assert option["feedback"] not in page, question.id
    if question.note:
        assert question.note not in page, question.id
    for source in question.sources:
        assert source.quote not in page, question.id
    typed = question.data.get("answers", []) + [
        variant for blank in question.data.get("blanks", []) for variant in blank
    ]
    for value in re.findall(r'value="([^"]*)"', page):
        assert value not in typed, question.id
