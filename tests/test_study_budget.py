"""SQL statements per study request stay a small constant, whatever the history.

A learner with 10,000 cards and 100,000 review log rows (bulk-inserted with Core)
costs the study page, an answer and a rating post as many statements as a learner
with ten cards: at most four each.
"""

from __future__ import annotations

import random
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select

from quizapp.extensions import db
from quizapp.models import (
    Learner,
    Question,
    ReviewLog,
    StudyCard,
    StudySettings,
    utcnow,
)
from tests.conftest import close_app, load_content, make_app
from tests.synthetic import card_row, review_row
from tests.test_query_budget import counting
from tests.test_quiz import payload

BUDGET = {"study": 4, "answer": 4, "rate": 4}
HISTORY: dict[str, tuple[int, int]] = {}  # learner -> (cards, log rows), as stored
SEED = 14  # the history's random spread; fixed so a failure can be replayed


def _history(app: Flask, learner: str, cards: int, logs_per_card: int) -> None:
    """`cards` cards (synthetic copies of fx-single) with their review history."""
    rng = random.Random(SEED)
    now = utcnow()
    with app.app_context():
        template = db.session.get(Question, "fx-single")
        columns = {
            k: getattr(template, k)
            for k in (
                "type",
                "essay_id",
                "data",
                "explanation",
                "note",
                "difficulty",
                "bloom",
                "content_hash",
            )
        }
        ids = [f"{learner}-q{i}" for i in range(cards)]
        db.session.execute(
            insert(Question),
            [
                {"id": qid, "prompt": f"Synthetic {i}", "position": 100 + i, **columns}
                for i, qid in enumerate(ids)
            ],
        )
        db.session.add(Learner(id=learner))
        db.session.add(StudySettings(learner_id=learner, max_reviews_per_day=10**6))
        db.session.flush()
        db.session.execute(
            insert(StudyCard),
            [
                # About a third overdue, the rest due within two months.
                card_row(learner, qid, rng, now, logs_per_card, (31, 90))
                for qid in ids
            ],
        )
        card_ids = db.session.scalars(
            select(StudyCard.id).where(StudyCard.learner_id == learner)
        ).all()
        rows = [
            review_row(card_id, learner, rng, now)
            for card_id in card_ids
            for _ in range(logs_per_card)
        ]
        db.session.execute(insert(ReviewLog), rows)
        db.session.commit()
        HISTORY[learner] = (
            db.session.scalar(
                select(func.count()).where(StudyCard.learner_id == learner)
            ),
            db.session.scalar(
                select(func.count()).where(ReviewLog.learner_id == learner)
            ),
        )


def _shown(html: str) -> dict[str, str]:
    return {
        k: re.search(rf'name="{k}" type="hidden" value="([^"]*)"', html).group(1)
        for k in ("question", "seen", "scope")
    }


def _costs(app: Flask, client: FlaskClient) -> dict[str, int]:
    client.get("/study")  # warm the content caches, as a running server has them
    costs: dict[str, int] = {}
    with counting(app) as statements:
        page = client.get("/study")
    costs["study"] = len(statements)
    card = _shown(page.get_data(as_text=True))
    with app.app_context():
        question = db.session.get(Question, card["question"])
        answer = payload(question, correct=True)
    with counting(app) as statements:
        reply = client.post("/study/answer", data={**card, **answer})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    costs["answer"] = len(statements)
    with counting(app) as statements:
        reply = client.post("/study/rate", data={**card, "rating": "3"})
    assert reply.status_code == 303, reply.get_data(as_text=True)
    costs["rate"] = len(statements)
    with app.app_context():
        stored = db.session.scalar(
            select(StudyCard.reps).where(StudyCard.question_id == card["question"])
        )
    assert stored == int(card["seen"]) + 1  # the rating was stored
    return costs


@pytest.fixture(scope="module")
def costs_small_and_large() -> tuple[dict[str, int], dict[str, int]]:
    app = make_app()
    try:
        load_content(app)
        results = []
        for learner, cards, logs_per_card in (("small", 10, 10), ("large", 10_000, 10)):
            _history(app, learner, cards, logs_per_card)
            client = app.test_client()
            with client.session_transaction() as session:
                session["learner"] = learner
            results.append(_costs(app, client))
        return results[0], results[1]
    finally:
        close_app(app)


@pytest.mark.parametrize("request_name", sorted(BUDGET))
def test_study_statements_stay_within_budget(
    costs_small_and_large: tuple[dict[str, int], dict[str, int]], request_name: str
) -> None:
    small, large = costs_small_and_large
    assert large[request_name] <= BUDGET[request_name], large
    assert large[request_name] == small[request_name], (small, large)


def test_the_large_history_is_really_large(
    costs_small_and_large: tuple[dict[str, int], dict[str, int]],
) -> None:
    # Guards the fixture itself: what it measured, it measured on this history.
    assert HISTORY["large"] == (10_000, 100_000)
    assert HISTORY["small"] == (10, 100)
