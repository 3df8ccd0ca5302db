"""SQL statements per page stay a small constant, whatever the bank and quiz size."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, insert, select

from quizapp import fastread
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    Learner,
    Question,
    Quiz,
    Response,
    ReviewLog,
    StudyCard,
    utcnow,
)
from tests.conftest import close_app, count_rows, load_content, make_app
from tests.synthetic import card_row, review_row, write_bank
from tests.test_quiz import payload, question_at

# What each page needs today (cold caches for the question and its fragments):
# catalogue 1 (content version + the learner's scores in one statement); question
# 2 (the slot lookup + loading the question on a cache miss); answer 8 (the read,
# then under the lock: attempt, response, insert; and, this being a practice
# answer, its review for study mode: the learner's retention setting, the study
# card under lock, the card's insert or update, the review log); feedback 1;
# finish 2; results 2; then, studying what it answered: the study page 2 (the
# learner's settings with the content version, then the queue's head and counts in
# one statement), its answer 2 (the same two), the rating 4, the progress page 6
# (settings, the review log, the cards, the bank's questions and their sources per
# essay and paragraph, the weakest questions).
BUDGET = {
    "catalogue": 1,
    "question": 2,
    "answer": 8,
    "feedback": 1,
    "finish": 2,
    "results": 2,
    "study": 2,
    "study-answer": 2,
    "rate": 4,
    "progress": 6,
}


Statement = tuple[str, Any]  # SQL text and its bound parameters


@contextmanager
def counting(app: Flask) -> Iterator[list[Statement]]:
    """Every statement run while the block runs, with its parameters."""
    statements: list[Statement] = []

    def record(_conn, _cursor, statement, parameters, _context, many) -> None:
        # Transaction control (SQLite's explicit BEGIN) is not a query.
        if not statement.lstrip().upper().startswith("BEGIN"):
            statements.append((statement, None if many else parameters))

    def record_fast(statement: str, parameters: Any) -> None:
        statements.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    # The hot pages' own statements go straight to the pooled DBAPI connection.
    fastread.listeners.append(record_fast)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
        fastread.listeners.remove(record_fast)


def page_statements(app: Flask) -> dict[str, list[Statement]]:
    """Statements per page for one learner taking a practice quiz of 50 questions,
    then studying what it answered and opening the progress page."""
    client = app.test_client()
    reply = client.post("/quizzes/quiz-0/start")
    attempt = re.search(r"/attempts/([\w-]+)", reply.headers["Location"]).group(1)
    client.get("/")
    client.get(f"/attempts/{attempt}/q/1")  # warm caches as a real server would be
    pages: dict[str, list[Statement]] = {}

    def run(name: str, call: Callable[[], Any], status: int = 200) -> Any:
        with counting(app) as statements:
            reply = call()
        assert reply.status_code == status, (name, reply.get_data(as_text=True))
        pages[name] = statements
        return reply

    run("catalogue", lambda: client.get("/"))
    run("question", lambda: client.get(f"/attempts/{attempt}/q/2"))
    form = {"version": "0", **payload(question_at(app, attempt, 2), correct=False)}
    run("answer", lambda: client.post(f"/attempts/{attempt}/q/2", data=form), 302)
    client.get(f"/attempts/{attempt}/q/2")
    run("feedback", lambda: client.get(f"/attempts/{attempt}/q/2"))
    run("finish", lambda: client.get(f"/attempts/{attempt}/finish"))
    client.post(f"/attempts/{attempt}/finish")
    client.get(f"/attempts/{attempt}/results")
    run("results", lambda: client.get(f"/attempts/{attempt}/results"))
    client.get("/study")
    shown = run("study", lambda: client.get("/study")).get_data(as_text=True)
    card = {
        k: re.search(rf'name="{k}" type="hidden" value="([^"]*)"', shown).group(1)
        for k in ("question", "seen", "scope")
    }
    with app.app_context():
        question = db.session.get(Question, card["question"])
        answer = payload(question, correct=True)
    run("study-answer", lambda: client.post("/study/answer", data={**card, **answer}))
    run("rate", lambda: client.post("/study/rate", data={**card, "rating": "3"}), 303)
    client.get("/progress")
    run("progress", lambda: client.get("/progress"))
    return pages


CROWD = {"learners": 200, "responses": 10, "cards": 20, "logs": 5}
CROWD_SEED = 16  # the crowd's random spread; fixed so a failure can be replayed


def crowd(app: Flask, learners: int, responses: int, cards: int, logs: int) -> None:
    """Other learners' history: attempts with responses, study cards with logs."""
    rng = random.Random(CROWD_SEED)
    now = utcnow()
    with app.app_context():
        ids = db.session.scalars(select(Question.id).order_by(Question.id)).all()
        # Two attempts in three are of a catalogue quiz, one of the builder's.
        quizzes = [None, *db.session.scalars(select(Quiz.id).order_by(Quiz.id))]
        db.session.execute(
            insert(Learner), [{"id": f"crowd{n:06d}"} for n in range(learners)]
        )
        attempts, answers, card_rows = [], [], []
        for n in range(learners):
            learner = f"crowd{n:06d}"
            drawn = rng.sample(ids, max(responses, cards))
            attempt = f"crowdattempt{n:06d}"
            attempts.append(
                {
                    "id": attempt,
                    "learner_id": learner,
                    "quiz_id": quizzes[n % len(quizzes)] if n % 3 else None,
                    "title": "Crowd",
                    "mode": "exam",
                    "layout": [{"question": q, "order": []} for q in drawn[:responses]],
                    "started_at": now - timedelta(days=rng.uniform(1, 300)),
                    "finished_at": now,
                    "score": 0.5,
                }
            )
            answers.extend(
                {
                    "attempt_id": attempt,
                    "question_id": q,
                    "position": i + 1,
                    "answer": {},
                    "score": rng.choice((0.0, 1.0)),
                }
                for i, q in enumerate(drawn[:responses])
            )
            card_rows.extend(
                card_row(learner, q, rng, now, reps=logs) for q in drawn[:cards]
            )
        db.session.execute(insert(Attempt), attempts)
        db.session.execute(insert(Response), answers)
        db.session.execute(insert(StudyCard), card_rows)
        card_ids = db.session.execute(select(StudyCard.id, StudyCard.learner_id)).all()
        db.session.execute(
            insert(ReviewLog),
            [
                review_row(card_id, learner, rng, now)
                for card_id, learner in card_ids
                for _ in range(logs)
            ],
        )
        db.session.commit()


# Tables that grow with learners and their history (not with the bank): a full scan
# of one of these is what makes a page slower for everyone as the site gets used.
HISTORY_TABLES = {
    "learner",
    "attempt",
    "response",
    "study_settings",
    "study_card",
    "review_log",
    "transfer_code",
}
PLANNED = ("SELECT", "WITH", "UPDATE", "DELETE")


def query_plans(
    app: Flask,
    statements: list[Statement],
    forbid_seq_scans: bool = True,
    analyze: bool = False,
) -> list[tuple[str, str]]:
    """(statement, plan) for every read, update or delete among `statements`.

    SQLite: EXPLAIN QUERY PLAN (values do not change its plan). PostgreSQL: EXPLAIN
    with the real values and, by default, sequential scans disabled, so a seq scan
    left in the plan means that no index can serve the query, whatever the table's
    size. `analyze` (PostgreSQL; reads only; rolled back) runs them: EXPLAIN
    ANALYZE, as the long-history benchmark shows them.
    """
    plans = []
    with app.app_context():
        engine = db.engine
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            postgres = engine.dialect.name == "postgresql"
            if postgres and forbid_seq_scans:
                cursor.execute("SET LOCAL enable_seqscan = off")
            for sql, parameters in statements:
                verb = sql.lstrip().split(None, 1)[0].upper()
                if verb not in PLANNED:
                    continue
                if postgres:
                    run = analyze and verb in ("SELECT", "WITH")
                    how = "EXPLAIN (ANALYZE) " if run else "EXPLAIN "
                    cursor.execute(how + sql, parameters)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                else:
                    blank = (
                        {k: None for k in parameters}
                        if isinstance(parameters, dict)
                        else [None] * len(parameters or ())
                    )
                    cursor.execute(f"EXPLAIN QUERY PLAN {sql}", blank)
                    plan = "\n".join(row[-1] for row in cursor.fetchall())
                plans.append((sql, plan))
        finally:
            connection.rollback()  # EXPLAIN ANALYZE of a write would have run it
            connection.close()
    return plans


def full_scans(plan: str) -> list[str]:
    """The plan lines that read a whole history table."""
    found = []
    for line in plan.splitlines():
        match = re.search(r"(?:^|\s)(?:SCAN|Seq Scan on) (\w+)", line)
        if match and match.group(1) in HISTORY_TABLES:
            found.append(line.strip())
    return found


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> dict[str, Any]:
    """Costs on a 60-question bank with no history, and costs and query plans on a
    2,000-question bank with other learners' long history (CROWD) around the
    measured learner."""
    results: dict[str, Any] = {}
    for size in (60, 2000):
        folder = write_bank(tmp_path_factory.mktemp(f"bank{size}"), size)
        app = make_app(Path(folder))
        load_content(app, Path(folder))
        if size == 2000:
            crowd(app, **CROWD)
            HELD.update(
                responses=count_rows(app, Response), logs=count_rows(app, ReviewLog)
            )
        pages = page_statements(app)
        name = "small" if size == 60 else "large"
        results[name] = {page: len(run) for page, run in pages.items()}
        if size == 2000:
            results["plans"] = {
                page: query_plans(app, run) for page, run in pages.items()
            }
        close_app(app)
    return results


HELD: dict[str, int] = {}


def test_the_crowd_is_really_there(measured) -> None:
    # Guards the fixture: the large costs were measured beside this history.
    assert {
        "responses": CROWD["learners"] * CROWD["responses"],
        "logs": CROWD["learners"] * CROWD["cards"] * CROWD["logs"],
    } == HELD


@pytest.mark.parametrize("page", sorted(BUDGET))
def test_statements_per_page_stay_within_budget(measured, page):
    small, large = measured["small"], measured["large"]
    assert large[page] <= BUDGET[page], large
    assert large[page] == small[page], (small, large)  # no growth with the bank


@pytest.mark.parametrize("page", sorted(BUDGET))
def test_every_query_of_a_page_uses_an_index(measured, page):
    plans = measured["plans"][page]
    assert plans, f"{page}: no query was planned"
    scans = [(sql, plan) for sql, plan in plans if full_scans(plan)]
    assert not scans, "\n\n".join(f"{sql}\n-> {plan}" for sql, plan in scans)


def test_the_scan_check_can_fail() -> None:
    # The check above must see a full scan in each engine's wording.
    assert full_scans("SCAN review_log") == ["SCAN review_log"]
    assert full_scans("  ->  Seq Scan on attempt a  (cost=1.00..2.00 rows=1)") == [
        "->  Seq Scan on attempt a  (cost=1.00..2.00 rows=1)"
    ]
    assert (
        full_scans("SEARCH attempt USING INDEX ix_attempt_learner_id (learner_id=?)")
        == []
    )
    assert full_scans("SCAN quiz") == []  # a content table: the bank's size
