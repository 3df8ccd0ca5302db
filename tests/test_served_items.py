"""Every question is answerable as served: its page names an essay that it cites."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Essay, Passage, Question, QuestionSource, Quiz
from tests.conftest import BANK_CONTENT, close_app, load_content, make_app
from tests.test_quiz import attempt_row, start, text_of

DRAWN_FROM = re.compile(
    r'<p class="drawn-from">From the essay <a href="/essays/([a-z0-9-]+)">([^<]+)</a>'
)


@pytest.fixture(scope="module")
def bank_app() -> Iterator[Flask]:
    app = make_app(BANK_CONTENT, RATE_LIMIT_START="100000 per minute")
    load_content(app, BANK_CONTENT)
    yield app
    close_app(app)


def cited_essays(app: Flask) -> dict[str, set[str]]:
    """For every question, the slugs of the essays its sources quote."""
    with app.app_context():
        rows = db.session.execute(
            select(QuestionSource.question_id, Essay.slug)
            .join(Passage, Passage.id == QuestionSource.passage_id)
            .join(Essay, Essay.id == Passage.essay_id)
        )
        cited: dict[str, set[str]] = {}
        for question_id, slug in rows:
            cited.setdefault(question_id, set()).add(slug)
        return cited


def named_on_every_page(app: Flask, client, attempt_id: str) -> dict[str, str]:
    """Walk an attempt: question id -> the essay slug its page names."""
    attempt = attempt_row(app, attempt_id)
    named = {}
    for number, question_id in enumerate(attempt.question_ids, start=1):
        page = text_of(client.get(f"/attempts/{attempt_id}/q/{number}"))
        found = DRAWN_FROM.search(page)
        assert found, (question_id, page[:400])
        named[question_id] = found.group(1)
    return named


def test_every_quiz_page_names_an_essay_its_question_cites(bank_app):
    cited = cited_essays(bank_app)
    with bank_app.app_context():
        slugs = db.session.scalars(select(Quiz.slug).where(~Quiz.retired)).all()
    client = bank_app.test_client()
    seen: set[str] = set()
    for slug in slugs:
        named = named_on_every_page(bank_app, client, start(client, slug))
        for question_id, essay in named.items():
            assert essay in cited[question_id], (slug, question_id, essay)
        seen |= set(named)
    with bank_app.app_context():
        live = set(db.session.scalars(select(Question.id).where(~Question.retired)))
    assert live <= seen  # the practice quizzes together serve every live question


def test_every_builder_draw_names_an_essay_its_question_cites(bank_app):
    cited = cited_essays(bank_app)
    client = bank_app.test_client()
    reply = client.post("/build", data={"count": "50", "mode": "exam"})
    assert reply.status_code == 302
    attempt_id = reply.headers["Location"].rsplit("/", 1)[-1]
    named = named_on_every_page(bank_app, client, attempt_id)
    assert len(named) == 50
    for question_id, essay in named.items():
        assert essay in cited[question_id], (question_id, essay)
