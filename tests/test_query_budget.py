"""SQL statements per page stay a small constant, whatever the bank and quiz size."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event

from quizapp import fastread
from quizapp.extensions import db
from tests.conftest import close_app, load_content, make_app
from tests.synthetic import write_bank
from tests.test_quiz import payload, question_at

# What each page needs today (cold caches for the question and its fragments):
# catalogue 1 (content version + the learner's scores in one statement); question
# 2 (the slot lookup + loading the question on a cache miss); answer 8 (the read,
# then under the lock: attempt, response, insert; and, this being a practice
# answer, its review for study mode: the learner's retention setting, the study
# card under lock, the card's insert or update, the review log); feedback 1;
# finish 2; results 2.
BUDGET = {
    "catalogue": 1,
    "question": 2,
    "answer": 8,
    "feedback": 1,
    "finish": 2,
    "results": 2,
}


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        # Transaction control (SQLite's explicit BEGIN) is not a query.
        if not statement.lstrip().upper().startswith("BEGIN"):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    # The hot pages' own statements go straight to the pooled DBAPI connection.
    fastread.listeners.append(statements.append)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
        fastread.listeners.remove(statements.append)


def page_costs(app: Flask) -> dict[str, int]:
    """Statements per page for one learner taking a practice quiz of 50 questions."""
    client = app.test_client()
    reply = client.post("/quizzes/quiz-0/start")
    attempt = re.search(r"/attempts/([\w-]+)", reply.headers["Location"]).group(1)
    client.get("/")
    client.get(f"/attempts/{attempt}/q/1")  # warm caches as a real server would be
    costs: dict[str, int] = {}

    def cost(name: str, call: Callable[[], object]) -> None:
        with counting(app) as statements:
            call()
        costs[name] = len(statements)

    cost("catalogue", lambda: client.get("/"))
    cost("question", lambda: client.get(f"/attempts/{attempt}/q/2"))
    form = {"version": "0", **payload(question_at(app, attempt, 2), correct=False)}
    with counting(app) as statements:
        reply = client.post(f"/attempts/{attempt}/q/2", data=form)
    assert reply.status_code == 302, reply.get_data(as_text=True)
    costs["answer"] = len(statements)
    client.get(f"/attempts/{attempt}/q/2")
    cost("feedback", lambda: client.get(f"/attempts/{attempt}/q/2"))
    cost("finish", lambda: client.get(f"/attempts/{attempt}/finish"))
    client.post(f"/attempts/{attempt}/finish")
    client.get(f"/attempts/{attempt}/results")
    cost("results", lambda: client.get(f"/attempts/{attempt}/results"))
    return costs


@pytest.fixture(scope="module")
def costs_small_and_large(tmp_path_factory) -> tuple[dict[str, int], dict[str, int]]:
    results = []
    for size in (60, 2000):
        folder = write_bank(tmp_path_factory.mktemp(f"bank{size}"), size)
        app = make_app(Path(folder))
        load_content(app, Path(folder))
        results.append(page_costs(app))
        close_app(app)
    return results[0], results[1]


@pytest.mark.parametrize("page", sorted(BUDGET))
def test_statements_per_page_stay_within_budget(costs_small_and_large, page):
    small, large = costs_small_and_large
    assert large[page] <= BUDGET[page], large
    assert large[page] == small[page], (small, large)  # no growth with the bank
