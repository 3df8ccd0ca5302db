"""Read-side queries for pages: catalogue cards, builder choices, essay citations."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select

from ..extensions import db
from ..models import Attempt, Essay, Question, QuestionSource, Quiz, Tag
from ..questions import question_query, select_questions, with_details


@dataclass(frozen=True)
class QuizCard:
    """A quiz as the catalogue lists it."""

    quiz: Quiz
    questions: int
    best: float | None
    resume: str | None


def catalogue(learner_id: str | None) -> dict[str, Any]:
    """Quizzes with their size, the learner's best score and any attempt to resume."""
    quizzes = list(
        db.session.scalars(select(Quiz).where(~Quiz.retired).order_by(Quiz.position))
    )
    best: dict[int, float] = {}
    resume: dict[int, str] = {}
    if learner_id:
        # One query for both: the best finished score and an unfinished attempt.
        rows = db.session.execute(
            select(
                Attempt.quiz_id,
                func.max(Attempt.score),
                func.max(case((Attempt.finished_at.is_(None), Attempt.id))),
            )
            .where(Attempt.learner_id == learner_id, Attempt.quiz_id.is_not(None))
            .group_by(Attempt.quiz_id)
        )
        for quiz_id, score, open_id in rows:
            if score is not None:
                best[quiz_id] = score
            if open_id is not None:
                resume[quiz_id] = open_id
    cards = [
        QuizCard(
            quiz,
            min(quiz.size, quiz.count) if quiz.count else quiz.size,
            best.get(quiz.id),
            resume.get(quiz.id),
        )
        for quiz in quizzes
    ]
    essays = list(db.session.scalars(select(Essay).order_by(Essay.position)))
    return {"cards": cards, "essays": essays}


def builder_choices() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(essay slug, title) and (tag, tag) choices for the quiz builder."""
    essays = db.session.execute(
        select(Essay.slug, Essay.title).order_by(Essay.position)
    ).all()
    tags = db.session.scalars(select(Tag.name).order_by(Tag.name)).all()
    return [(s, t) for s, t in essays], [(t, t.capitalize()) for t in tags]


def questions_by_id(ids: list[str]) -> dict[str, Question]:
    """The given questions (retired ones too: old attempts keep them), by id."""
    query = select(Question).where(Question.id.in_(ids))
    return {q.id: q for q in db.session.scalars(query)}


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
) -> list[Question]:
    """Questions for a deck download, with everything a card shows loaded."""
    if ids is not None:
        if not ids:
            return []
        return list(db.session.scalars(with_details(question_query(ids=ids))))
    return select_questions(essay=essay, quiz=quiz)
