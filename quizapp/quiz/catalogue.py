"""Read-side queries for pages: catalogue cards, builder choices, essay citations."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

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
        best_rows = db.session.execute(
            select(Attempt.quiz_id, func.max(Attempt.score))
            .where(Attempt.learner_id == learner_id, Attempt.finished_at.is_not(None))
            .group_by(Attempt.quiz_id)
        )
        best = {quiz_id: score for quiz_id, score in best_rows if quiz_id}
        open_rows = db.session.execute(
            select(Attempt.quiz_id, Attempt.id).where(
                Attempt.learner_id == learner_id, Attempt.finished_at.is_(None)
            )
        )
        resume = {quiz_id: attempt_id for quiz_id, attempt_id in open_rows if quiz_id}
    cards = []
    for quiz in quizzes:
        available = _rule_size(quiz.rule)
        size = min(available, quiz.count) if quiz.count else available
        cards.append(QuizCard(quiz, size, best.get(quiz.id), resume.get(quiz.id)))
    essays = list(db.session.scalars(select(Essay).order_by(Essay.position)))
    return {"cards": cards, "essays": essays}


def _rule_size(rule: dict[str, Any]) -> int:
    query = question_query(
        essays=rule.get("essays", []),
        tags=rule.get("tags", []),
        types=rule.get("types", []),
        ids=rule.get("questions", []),
    )
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    return db.session.scalar(counted) or 0


def builder_choices() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(essay slug, title) and (tag, tag) choices for the quiz builder."""
    essays = db.session.execute(
        select(Essay.slug, Essay.title).order_by(Essay.position)
    ).all()
    tags = db.session.scalars(select(Tag.name).order_by(Tag.name)).all()
    return [(s, t) for s, t in essays], [(t, t.capitalize()) for t in tags]


def questions_with_sources(ids: list[str]) -> dict[str, Question]:
    """The given questions (retired ones too: old attempts keep them), by id."""
    query = with_details(select(Question).where(Question.id.in_(ids)))
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
