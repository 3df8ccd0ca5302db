"""Read-side queries for the other pages: builder choices, essay citations, decks."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from ..anki.builder import DeckQuestion, load_questions
from ..extensions import db
from ..models import Essay, Question, QuestionSource, Tag
from ..questions import export_query, question_query


def builder_choices() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(essay slug, title) and (tag, tag) choices for the quiz builder."""
    essays = db.session.execute(
        select(Essay.slug, Essay.title).order_by(Essay.position)
    ).all()
    tags = db.session.scalars(select(Tag.name).order_by(Tag.name)).all()
    return [(s, t) for s, t in essays], [(t, t.capitalize()) for t in tags]


def questions_by_passage(essay: Essay) -> dict[int, list[Question]]:
    """For each passage of an essay, the live questions that cite it."""
    rows = db.session.execute(
        select(QuestionSource.passage_id, Question)
        .join(Question)
        .where(
            QuestionSource.passage_id.in_([p.id for p in essay.passages]),
            ~Question.retired,
        )
        .order_by(Question.position)
    )
    cited: dict[int, list[Question]] = defaultdict(list)
    for passage_id, question in rows:
        if question not in cited[passage_id]:
            cited[passage_id].append(question)
    return cited


def deck_questions(
    *, essay: str | None = None, quiz: str | None = None, ids: list[str] | None = None
) -> list[DeckQuestion]:
    """Questions for a deck download as the builder's light rows (four statements).

    tests/test_anki.py checks these rows against DeckQuestion.of(ORM question).
    """
    if ids is not None:
        return load_questions(question_query(ids=ids)) if ids else []
    return load_questions(export_query(essay=essay, quiz=quiz))
