"""What only content changes, built once per content version and reused by every page.

Questions, quiz cards and rendered HTML (a question's answer fields, a review of an
answer) are pure functions of the loaded content, a stored option order and an
answer, kept in the app's content cache (cache.py) under the content version the
page's own statement returned (pages.py).
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from ..extensions import db
from ..models import Essay, Passage, Question, QuestionSource, Quiz
from ..types import REGISTRY
from .cache import content_cache
from .forms import AnswerForm, answer_fields, answer_form
from .review import Source, build_feedback


@dataclass(frozen=True)
class QuestionView:
    """A question as pages show and grade it, with its sources resolved."""

    id: str
    type: str
    prompt: str
    data: dict[str, Any]
    explanation: str
    note: str | None
    content_hash: str
    essay_title: str
    essay_slug: str
    sources: tuple[Source, ...]


def questions(version: str, ids: Iterable[str]) -> dict[str, QuestionView]:
    """The questions with these ids (retired ones too: old attempts keep them)."""
    found = content_cache().get_many(
        version, [("question", qid) for qid in ids], _load_questions
    )
    return {key[1]: view for key, view in found.items()}  # type: ignore[index]


def question(version: str, question_id: str) -> QuestionView | None:
    """One question, or None when no such question was ever loaded."""
    return questions(version, [question_id]).get(question_id)


def _load_questions(keys: list[Hashable]) -> dict[Hashable, QuestionView]:
    # One statement for the questions, their essays and every source with its
    # passage and essay.
    ids = [key[1] for key in keys]  # type: ignore[index]
    q, s = Question.__table__, QuestionSource.__table__
    p, e = Passage.__table__, Essay.__table__
    home = e.alias("home")
    rows = db.session.execute(
        select(
            q.c.id,
            q.c.type,
            q.c.prompt,
            q.c.data,
            q.c.explanation,
            q.c.note,
            q.c.content_hash,
            home.c.title.label("home_title"),
            home.c.slug.label("home_slug"),
            s.c.quote,
            e.c.title,
            e.c.slug,
            p.c.anchor,
        )
        .select_from(
            q.join(home, home.c.id == q.c.essay_id)
            .outerjoin(s, s.c.question_id == q.c.id)
            .outerjoin(p, p.c.id == s.c.passage_id)
            .outerjoin(e, e.c.id == p.c.essay_id)
        )
        .where(q.c.id.in_(ids))
        .order_by(q.c.id, s.c.position)
    )
    fields: dict[str, tuple[Any, ...]] = {}
    sources: dict[str, list[Source]] = {}
    for row in rows:
        fields.setdefault(row.id, tuple(row[:9]))
        found = sources.setdefault(row.id, [])
        if row.quote is not None:
            found.append(Source(row.quote, row.title, row.slug, row.anchor))
    return {
        ("question", qid): QuestionView(*values, sources=tuple(sources[qid]))
        for qid, values in fields.items()
    }


def essay_url(slug: str) -> str:
    """The essay reader's URL for `slug`."""
    key = ("essay-url", request.script_root, slug)
    return content_cache().get(None, key, lambda: url_for("quiz.essay", slug=slug))


def answer_fields_html(version: str, view: QuestionView, order: list[str]) -> Markup:
    """The empty answer fields of a question in one stored option order."""
    key = ("fields", view.id, tuple(order))
    return content_cache().get(version, key, lambda: fields_html(view, order))


def stored_fields_html(
    view: QuestionView, order: list[str], answer: dict[str, Any]
) -> Markup:
    """The answer fields filled with a stored answer (an exam answer shown again)."""
    form = answer_form(view, order, stored=answer, meta={"csrf": False})
    return fields_html(view, order, form)


def fields_html(
    view: QuestionView, order: list[str], form: AnswerForm | None = None
) -> Markup:
    """Answer fields: empty, or from `form` (a stored answer, or errors to show)."""
    if form is None:
        form = answer_form(view, order, meta={"csrf": False})
    kind = REGISTRY[view.type]
    return _render(
        kind.fields_template,
        question=view,
        form=form,
        fields=answer_fields(form),
        **kind.template_context(view.data),
    )


def revealed_html(
    version: str, view: QuestionView, order: list[str], answer: dict[str, Any] | None
) -> Markup:
    """A question with the review of an answer, as its page shows it once answered."""
    return _review_fragment(version, "quiz/_revealed.html", view, order, answer)


def review_item_html(
    version: str,
    view: QuestionView,
    number: int,
    order: list[str],
    answer: dict[str, Any] | None,
) -> Markup:
    """Question `number` of the results' review list, with the review of an answer."""
    return _review_fragment(version, "quiz/_review.html", view, order, answer, number)


def _review_fragment(
    version: str,
    template: str,
    view: QuestionView,
    order: list[str],
    answer: dict[str, Any] | None,
    number: int | None = None,
) -> Markup:
    """`template` rendered with the review of `answer`, cached.

    Keyed by the answer itself: learners who gave the same answer share it. (The
    key holds what was typed, too: a bounded memo of rendered HTML, never a record;
    any worker renders the same bytes from the database.)
    """
    answer_key = None if answer is None else json.dumps(answer, sort_keys=True)
    key = (template, request.script_root, view.id, number, tuple(order), answer_key)

    def render() -> Markup:
        kind = REGISTRY[view.type]
        return _render(
            template,
            question=view,
            number=number,
            review=build_feedback(view, order, answer),
            revealed=kind.revealed_template,
            **kind.template_context(view.data),
        )

    return content_cache().get(version, key, render)


def _render(template: str, **context: Any) -> Markup:
    # render_template's output is autoescaped HTML, safe to insert as it is.
    html = render_template(template, **context)
    return Markup(html)  # noqa: S704  # nosec B704


@dataclass(frozen=True)
class Card:
    """A quiz as the catalogue lists it."""

    id: int
    slug: str
    title: str
    description: str
    mode: str
    questions: int
    start_url: str
    deck_url: str


@dataclass(frozen=True)
class Listing:
    """The catalogue's content: quiz cards and the essays, in order."""

    cards: tuple[Card, ...]
    essays: tuple[tuple[str, str], ...]  # (url, title)


def listing(version: str) -> Listing:
    """Quiz cards and essay links for this content version."""
    return content_cache().get(version, ("listing", request.script_root), _load_listing)


def _load_listing() -> Listing:
    quizzes = db.session.scalars(
        select(Quiz).where(~Quiz.retired).order_by(Quiz.position)
    )
    cards = tuple(
        Card(
            quiz.id,
            quiz.slug,
            quiz.title,
            quiz.description,
            quiz.mode,
            min(quiz.size, quiz.count) if quiz.count else quiz.size,
            url_for("quiz.start", slug=quiz.slug),
            url_for("quiz.deck", kind="quizzes", slug=quiz.slug),
        )
        for quiz in quizzes
    )
    essays = db.session.execute(
        select(Essay.slug, Essay.title).order_by(Essay.position)
    ).all()
    return Listing(
        cards, tuple((url_for("quiz.essay", slug=slug), t) for slug, t in essays)
    )
