"""Concurrency against a live gunicorn with several workers (issue #6).

The PostgreSQL tests (marked `postgres`, skipped unless TEST_DATABASE_URL names a
PostgreSQL server) check the row locks: one response per burst of identical posts,
one attempt per burst of starts, no answer accepted after finish, and no answer
lost and no 5xx with 50 learners at once. One lighter test runs everywhere, on a
SQLite file, to prove WAL + busy timeout + BEGIN IMMEDIATE serve several workers.

Statuses allowed: 302 for a saved (or idempotently re-saved) answer, a start and
a finish; 409 for an answer refused because the attempt is finished; 200 for pages.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, text

from quizapp.extensions import db
from quizapp.models import Attempt, Learner, Question, Quiz, Response
from tests.conftest import FIXTURE_CONTENT, TEST_DATABASE_URL, load_content, make_app
from tests.live_server import (
    Browser,
    Reply,
    gunicorn,
    in_parallel,
    server_log,
    sqlite_file_with_fixture_bank,
)
from tests.test_quiz import payload

ON_POSTGRES = bool(TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"))
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES, reason="TEST_DATABASE_URL does not name a PostgreSQL server"
)

SAME_ANSWER_POSTS = 20
PARALLEL_STARTS = 10
RACE_ROUNDS = 30
LEARNERS = 50


@dataclass
class Server:
    """A running server, and the database behind it seen from the test."""

    base_url: str
    engine: Engine
    log_path: Path

    def learner(self) -> Browser:
        return Browser(self.base_url)

    def layout(self, attempt_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            layout = connection.scalar(
                select(Attempt.layout).where(Attempt.id == attempt_id)
            )
        assert layout is not None, attempt_id
        return layout

    def form(
        self, attempt_id: str, number: int, correct: bool = True, version: int = 0
    ) -> dict[str, Any]:
        """Form data answering question `number` of an attempt, right or wrong."""
        return self.form_for(self.layout(attempt_id), number, correct, version)

    def form_for(
        self,
        layout: list[dict[str, Any]],
        number: int,
        correct: bool = True,
        version: int = 0,
    ) -> dict[str, Any]:
        question = self.questions[layout[number - 1]["question"]]
        return {"version": str(version), **payload(question, correct)}

    @cached_property
    def questions(self) -> dict[str, Any]:
        """The bank's questions (type and answer data), read once."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(Question.id, Question.type, Question.data))
            return {r.id: SimpleNamespace(type=r.type, data=r.data) for r in rows}

    def attempt(self, attempt_id: str) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(
                select(
                    Attempt.learner_id,
                    Attempt.layout,
                    Attempt.finished_at,
                    Attempt.score,
                ).where(Attempt.id == attempt_id)
            ).one()

    def responses(self, attempt_id: str) -> dict[str, Any]:
        """The attempt's response rows by question id."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(
                    Response.question_id,
                    Response.version,
                    Response.score,
                    Response.answered_at,
                ).where(Response.attempt_id == attempt_id)
            ).all()
        # Two rows for one question would be lost in the dict: count them apart.
        assert len({r.question_id for r in rows}) == len(rows), rows
        return {row.question_id: row for row in rows}

    def attempts_of(self, learner_id: str, slug: str) -> list[Any]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    select(Attempt.id, Attempt.finished_at)
                    .join(Quiz, Attempt.quiz_id == Quiz.id)
                    .where(Attempt.learner_id == learner_id, Quiz.slug == slug)
                ).all()
            )

    def count(self, model: type) -> int:
        with self.engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(model)) or 0


def attempt_id_of(reply: Reply) -> str:
    """The attempt a start redirected to."""
    assert reply.status == 302, (reply.status, reply.body[:500])
    match = re.fullmatch(
        r"(?:http://127\.0\.0\.1:\d+)?/attempts/([\w-]+)", reply.location
    )
    assert match, reply.location
    return match.group(1)


def start(learner: Browser, slug: str) -> str:
    return attempt_id_of(learner.post(f"/quizzes/{slug}/start"))


def no_server_errors(replies: list[Reply], server: Server) -> None:
    errors = Counter(r.status for r in replies if r.status >= 500)
    assert not errors, f"{dict(errors)}; server log:\n{server_log(server.log_path)}"


def check_same_answer_burst(server: Server, slug: str, numbers: range) -> Counter:
    """Post one answer SAME_ANSWER_POSTS times at once, per question: one row each.

    Every copy is accepted (302: the first saves, the rest find the same answer
    stored and change nothing), and exactly one response row exists, version 1.
    """
    learner = server.learner()
    attempt_id = start(learner, slug)
    total = len(server.layout(attempt_id))
    statuses: Counter = Counter()
    for number in numbers:
        form = server.form(attempt_id, number)
        path = f"/attempts/{attempt_id}/q/{number}"
        replies = in_parallel(
            SAME_ANSWER_POSTS, lambda _, p=path, f=form: learner.post(p, f)
        )
        no_server_errors(replies, server)
        statuses.update(r.status for r in replies)
        assert [r.status for r in replies] == [302] * SAME_ANSWER_POSTS
        if slug == "fx-practice":  # practice stays on the question: feedback
            following = f"q/{number}"
        else:
            following = "finish" if number == total else f"q/{number + 1}"
        assert {r.location.rsplit(f"/{attempt_id}/", 1)[-1] for r in replies} == {
            following
        }
        responses = server.responses(attempt_id)
        assert len(responses) == number  # one row per question answered so far
        question_id = server.layout(attempt_id)[number - 1]["question"]
        assert responses[question_id].version == 1
    return statuses


def check_start_burst(server: Server, slug: str = "fx-exam") -> Counter:
    """PARALLEL_STARTS starts by one learner at once: one attempt, all sent to it."""
    learner = server.learner()
    first = start(learner, "fx-practice")  # creates the learner and its cookie
    learner_id = server.attempt(first).learner_id
    replies = in_parallel(
        PARALLEL_STARTS, lambda _: learner.post(f"/quizzes/{slug}/start")
    )
    no_server_errors(replies, server)
    assert [r.status for r in replies] == [302] * PARALLEL_STARTS
    attempt_ids = {attempt_id_of(r) for r in replies}
    attempts = server.attempts_of(learner_id, slug)
    assert len(attempts) == 1, attempts  # no second attempt, finished or not
    assert attempts[0].finished_at is None
    assert attempt_ids == {attempts[0].id}
    return Counter(r.status for r in replies)


# PostgreSQL, three workers -----------------------------------------------------


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Gunicorn with 3 workers on TEST_DATABASE_URL, the fixture bank loaded.

    The tables are dropped afterwards, so later tests start from an empty schema.
    """
    assert TEST_DATABASE_URL
    app = make_app(FIXTURE_CONTENT)  # drop_all + create_all on TEST_DATABASE_URL
    load_content(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    engine = create_engine(TEST_DATABASE_URL)
    log_path = tmp_path_factory.mktemp("gunicorn-pg") / "gunicorn.log"
    try:
        with gunicorn(TEST_DATABASE_URL, FIXTURE_CONTENT, log_path, workers=3) as url:
            yield Server(url, engine, log_path)
    finally:
        engine.dispose()
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


@pytest.mark.postgres
@postgres_only
@pytest.mark.parametrize("slug", ["fx-exam", "fx-practice"])
def test_parallel_posts_of_one_answer_store_one_response(pg_server, slug):
    statuses = check_same_answer_burst(pg_server, slug, range(1, 4))
    assert statuses == {302: 3 * SAME_ANSWER_POSTS}


@pytest.mark.postgres
@postgres_only
def test_parallel_starts_leave_one_attempt_in_progress(pg_server):
    for _ in range(3):  # fresh learner each round
        assert check_start_burst(pg_server) == {302: PARALLEL_STARTS}


@pytest.mark.postgres
@postgres_only
def test_no_answer_is_accepted_after_finish(pg_server):
    """Finish and an answer race, RACE_ROUNDS times: the answer is either stored
    before finished_at (and counted in the score) or refused with 409."""
    learner = pg_server.learner()
    outcomes: Counter = Counter()
    for round_ in range(RACE_ROUNDS):
        attempt_id = start(learner, "fx-exam")  # the last one is finished: new
        layout = pg_server.layout(attempt_id)
        question_id = layout[0]["question"]
        changing = round_ % 2 == 1  # odd rounds change an answer, even add one
        version = 0
        if changing:
            wrong = pg_server.form(attempt_id, 1, correct=False)
            assert learner.post(f"/attempts/{attempt_id}/q/1", wrong).status == 302
            version = 1
        before = pg_server.responses(attempt_id).get(question_id)
        form = pg_server.form(attempt_id, 1, correct=True, version=version)
        delay = (round_ % 3) * 0.002  # vary who gets the lock first

        def race(index: int, a=attempt_id, f=form, d=delay) -> Reply:
            if index == 0:
                return learner.post(f"/attempts/{a}/finish")
            time.sleep(d)
            return learner.post(f"/attempts/{a}/q/1", f)

        finished, answered = in_parallel(2, race)
        no_server_errors([finished, answered], pg_server)
        assert finished.status == 302, finished.body[:300]
        assert finished.location.endswith(f"/attempts/{attempt_id}/results")
        assert answered.status in (302, 409), answered.body[:300]

        attempt = pg_server.attempt(attempt_id)
        responses = pg_server.responses(attempt_id)
        finished_at: datetime = attempt.finished_at
        assert finished_at is not None
        after = responses.get(question_id)
        story = (
            f"round {round_}: answer {answered.status}, finished at {finished_at}, "
            f"score {attempt.score}, response before {before}, after {after}"
        )
        if answered.status == 302:  # saved while the attempt was still open
            outcomes["stored before finish"] += 1
            assert after is not None, story
            assert after.version == version + 1, story
            assert after.score == 1.0, story
            assert after.answered_at <= finished_at, story
        else:  # refused: what was stored before the race is untouched
            outcomes["refused after finish"] += 1
            assert "answers are closed" in answered.body, story
            assert after == before, story
        assert all(r.answered_at <= finished_at for r in responses.values()), story
        # The score was computed from exactly the answers stored when it finished.
        expected = round(sum(r.score for r in responses.values()) / len(layout), 4)
        assert attempt.score == pytest.approx(expected), story
    print(f"finish/answer race outcomes: {dict(outcomes)}")


@pytest.mark.postgres
@postgres_only
def test_fifty_learners_at_once_lose_no_answer(pg_server):
    """LEARNERS learners at once start, resume, answer every question right,
    finish and read their results: every answer stored, every score full, no 5xx.

    Half take the exam (4 questions), half the practice quiz (6): 500 requests.
    """
    responses_before = pg_server.count(Response)
    assert pg_server.questions  # read before the threads start

    def take_quiz(index: int) -> tuple[str, list[tuple[str, int, int]], bool]:
        learner = pg_server.learner()
        slug = "fx-exam" if index % 2 else "fx-practice"
        seen: list[tuple[str, int, int]] = []  # (step, status, expected status)

        def expect(reply: Reply, step: str, status: int) -> Reply:
            seen.append((step, reply.status, status))
            return reply

        reply = expect(learner.post(f"/quizzes/{slug}/start"), "start", 302)
        attempt_id = attempt_id_of(reply)
        base = f"/attempts/{attempt_id}"
        reply = expect(learner.get(base), "resume", 302)
        assert reply.location.endswith(f"{base}/q/1"), reply.location
        expect(learner.get(f"{base}/q/1"), "question", 200)
        layout = pg_server.layout(attempt_id)
        for number in range(1, len(layout) + 1):
            form = pg_server.form_for(layout, number)
            expect(learner.post(f"{base}/q/{number}", form), "answer", 302)
        reply = expect(learner.get(base), "resume", 302)  # all answered: finish
        assert reply.location.endswith(f"{base}/finish"), reply.location
        expect(learner.post(f"{base}/finish"), "finish", 302)
        results = expect(learner.get(f"{base}/results"), "results", 200)
        return attempt_id, seen, "100%" in results.body

    outcomes = in_parallel(LEARNERS, take_quiz)

    steps = [step for _, seen, _ in outcomes for step in seen]
    statuses = Counter(status for _, status, _ in steps)
    server_errors = [step for step in steps if step[1] >= 500]
    assert not server_errors, f"{server_errors}\n{server_log(pg_server.log_path)}"
    wrong = [step for step in steps if step[1] != step[2]]
    assert not wrong, wrong
    assert all(full_marks for _, _, full_marks in outcomes)  # results pages
    attempt_ids = [attempt_id for attempt_id, _, _ in outcomes]
    assert len(set(attempt_ids)) == LEARNERS
    stored = 0
    for attempt_id in attempt_ids:
        attempt = pg_server.attempt(attempt_id)
        responses = pg_server.responses(attempt_id)
        assert attempt.finished_at is not None
        assert set(responses) == {slot["question"] for slot in attempt.layout}
        assert all(r.version == 1 and r.score == 1.0 for r in responses.values())
        assert attempt.score == 1.0
        stored += len(responses)
    assert pg_server.count(Response) - responses_before == stored
    assert len({pg_server.attempt(a).learner_id for a in attempt_ids}) == LEARNERS
    print(f"{LEARNERS} learners: {sum(statuses.values())} requests {dict(statuses)}")
    print(
        f"responses stored: {stored}, learners in database: {pg_server.count(Learner)}"
    )


# SQLite file, two workers --------------------------------------------------------


def test_sqlite_file_serves_parallel_posts_and_starts_from_two_workers(tmp_path):
    """WAL, the busy timeout and BEGIN IMMEDIATE let two workers share a SQLite
    file: a burst of one answer stores one row, a burst of starts one attempt."""
    url = sqlite_file_with_fixture_bank(tmp_path)
    engine = create_engine(url)
    log_path = tmp_path / "gunicorn.log"
    try:
        with gunicorn(url, FIXTURE_CONTENT, log_path, workers=2) as base_url:
            server = Server(base_url, engine, log_path)
            answers = check_same_answer_burst(server, "fx-exam", range(1, 2))
            starts = check_start_burst(server)
        assert answers == {302: SAME_ANSWER_POSTS}
        assert starts == {302: PARALLEL_STARTS}
        assert server.count(Attempt) == 3  # the answered exam, a practice, an exam
        assert server.count(Response) == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("level, number", [("NORMAL", 1), ("FULL", 2)])
def test_sqlite_synchronous_setting_is_applied_to_file_databases(
    tmp_path: Path, level: str, number: int
) -> None:
    from quizapp import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x" * 40,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'sync.sqlite'}",
            "SQLITE_SYNCHRONOUS": level,
        }
    )
    with app.app_context():
        assert db.session.execute(text("PRAGMA synchronous")).scalar() == number
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        db.engine.dispose()


def test_a_bad_sqlite_synchronous_value_is_refused() -> None:
    from quizapp.config import environment_config

    with pytest.raises(ValueError, match="NORMAL or FULL"):
        environment_config({"SQLITE_SYNCHRONOUS": "OFF"})
