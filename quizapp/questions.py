"""Queries over the loaded bank: which live questions a quiz rule or filter selects."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from .extensions import db
from .models import Essay, Passage, Question, QuestionSource, Quiz, Tag


def question_query(
    *,
    essays: Iterable[str] = (),
    tags: Iterable[str] = (),
    types: Iterable[str] = (),
    ids: Iterable[str] = (),
) -> Select[tuple[Question]]:
    """Live (not retired) questions that pass every given filter, in bank order.

    A question belongs to every essay it cites, not only the file it was written in.
    """
    query = select(Question).where(Question.retired.is_(False))
    essays, tags, types, ids = list(essays), list(tags), list(types), list(ids)
    if essays:
        cited = (
            select(QuestionSource.question_id)
            .join(Passage)
            .join(Essay)
            .where(Essay.slug.in_(essays))
        )
        query = query.where(Question.id.in_(cited))
    if tags:
        query = query.where(Question.tags.any(Tag.name.in_(tags)))
    if types:
        query = query.where(Question.type.in_(types))
    if ids:
        query = query.where(Question.id.in_(ids))
    return query.order_by(Question.position)


def with_details(query: Select[tuple[Question]]) -> Select[tuple[Question]]:
    """Eager-load what a page or deck shows of each question: essay, tags, sources."""
    return query.options(
        selectinload(Question.essay),
        selectinload(Question.tags),
        selectinload(Question.sources)
        .selectinload(QuestionSource.passage)
        .selectinload(Passage.essay),
    )


def quiz_questions(quiz: Quiz) -> list[Question]:
    """Every live question a quiz's rule selects (before any random draw)."""
    return list(db.session.scalars(question_query(**_rule_filters(quiz.rule))))


def rule_size(rule: dict[str, Any]) -> int:
    """How many live questions a quiz rule selects."""
    query = question_query(**_rule_filters(rule)).order_by(None)
    counted = select(func.count()).select_from(query.subquery())
    return db.session.scalar(counted) or 0


def _rule_filters(rule: dict[str, Any]) -> dict[str, list[str]]:
    return {
        "essays": rule.get("essays", []),
        "tags": rule.get("tags", []),
        "types": rule.get("types", []),
        "ids": rule.get("questions", []),
    }


def select_questions(
    *, essay: str | None = None, quiz: str | None = None, tag: str | None = None
) -> list[Question]:
    """Questions for an export: the whole bank, or one essay's, quiz's or tag's."""
    query = export_query(essay=essay, quiz=quiz, tag=tag)
    return list(db.session.scalars(with_details(query)))


def export_query(
    *, essay: str | None = None, quiz: str | None = None, tag: str | None = None
) -> Select[tuple[Question]]:
    """The query `select_questions` runs (without its eager loads).

    Raises LookupError for a quiz or essay that does not exist.
    """
    filters: dict[str, list[str]] = {}
    if quiz:
        quiz_row = db.session.scalar(select(Quiz).where(Quiz.slug == quiz))
        if quiz_row is None:
            raise LookupError(f"no quiz {quiz!r}")
        filters = _rule_filters(quiz_row.rule)
    if essay:
        if db.session.scalar(select(Essay.id).where(Essay.slug == essay)) is None:
            raise LookupError(f"no essay {essay!r}")
        filters["essays"] = [*filters.get("essays", []), essay]
    if tag:
        filters["tags"] = [*filters.get("tags", []), tag]
    return question_query(**filters)
