"""The hot pages, each assembled in one place: one read, one frozen dataclass.

A page's dataclass lists what its template prints. Fields made with `column(...)`
are read from the database by the page's own statement (labelled by field name, so
rows are read by name); the rest are computed here from that row and the content
cache. `stencils.render(page)` turns the dataclass into HTML. To show one more
database value on the question page: add `name: type = column(expression)` to
QuestionPage, and `{{ name }}` to templates/quiz/question.html.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from flask import current_app
from markupsafe import Markup
from sqlalchemy import ColumnElement, FromClause, and_, bindparam, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import JSON

from ..extensions import db
from ..fastread import FastStatement, Row, all_of, first_of
from ..models import (
    Attempt,
    AttemptFacts,
    ContentState,
    Response,
    StudyCard,
    utcnow,
)
from . import fragments
from .fragments import QuestionView
from .urls import attempt_url

_attempt = Attempt.__table__
_response = Response.__table__
_state = ContentState.__table__

# Positions are INTEGER columns; a larger number in a URL names no question.
MAX_POSITION = 2**31 - 1


def column(expression: ColumnElement[Any]) -> Any:
    """A page field that the page's statement reads, labelled with the field's name."""
    return dataclasses.field(metadata={"column": expression})


def page_statement(
    page: type, from_: FromClause, where: ColumnElement[bool]
) -> FastStatement:
    """The SELECT of every `column(...)` field of `page`, each labelled by its name."""
    columns = [
        f.metadata["column"].label(f.name)
        for f in dataclasses.fields(page)
        if "column" in f.metadata
    ]
    return FastStatement(select(*columns).select_from(from_).where(where))


def _from_row(page: type, row: Row) -> dict[str, Any]:
    names = _COLUMN_NAMES.get(page)
    if names is None:
        names = tuple(
            f.name for f in dataclasses.fields(page) if "column" in f.metadata
        )
        _COLUMN_NAMES[page] = names
    return {name: row[name] for name in names}


_COLUMN_NAMES: dict[type, tuple[str, ...]] = {}


def version_stamp(version: int | None, loaded_at: datetime | None) -> str:
    """The content version as one string: the version and when it was loaded.

    Both, so a cache never mistakes one database's version 1 for another's (tests,
    a rebuilt database behind a running process).
    """
    if version is None or loaded_at is None:
        return ""
    return f"{version}@{loaded_at.isoformat()}"


def _version(column_name: str) -> ColumnElement[Any]:
    return select(_state.c[column_name]).where(_state.c.id == 1).scalar_subquery()


_OWN_ATTEMPT = and_(
    _attempt.c.id == bindparam("attempt_id"),
    _attempt.c.learner_id == bindparam("learner_id"),
)


class _LayoutItem(FunctionElement[Any]):
    """layout[index], as JSON: only the slot a question page needs is read."""

    type = JSON()
    inherit_cache = True
    name = "layout_item"


@compiles(_LayoutItem, "sqlite")
def _layout_item_sqlite(element: _LayoutItem, compiler: Any, **kw: Any) -> str:
    array, index = (compiler.process(c, **kw) for c in element.clauses)
    return f"json_extract({array}, '$[' || {index} || ']')"


@compiles(_LayoutItem, "postgresql")
def _layout_item_postgresql(element: _LayoutItem, compiler: Any, **kw: Any) -> str:
    array, index = (compiler.process(c, **kw) for c in element.clauses)
    return f"({array} -> CAST({index} AS INTEGER))"


_counted = _response.alias("counted")


@dataclass(frozen=True)
class StoredAnswer:
    """The answer stored for one question of an attempt, and its version."""

    question_id: str
    answer: dict[str, Any]
    version: int


# ---------------------------------------------------------------------------------
# The question page: GET of a question, its feedback once answered, a refused answer.
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionPage:
    """Question `number` of a learner's attempt, as its page shows it."""

    TEMPLATE: ClassVar[str] = "quiz/question.html"
    SHAPE: ClassVar[tuple[str, ...]] = ("mode", "revealed", "finished")

    attempt_id: str = column(_attempt.c.id)
    title: str = column(_attempt.c.title)
    mode: str = column(_attempt.c.mode)
    slot: dict[str, Any] = column(_LayoutItem(_attempt.c.layout, bindparam("position")))
    started_at: datetime = column(_attempt.c.started_at)
    finished_at: datetime | None = column(_attempt.c.finished_at)
    total: int = column(func.json_array_length(_attempt.c.layout))
    stored_question: str | None = column(_response.c.question_id)
    stored_answer: dict[str, Any] | None = column(_response.c.answer)
    stored_version: int | None = column(_response.c.version)
    answered: int = column(
        select(func.count())
        .select_from(_counted)
        .where(_counted.c.attempt_id == _attempt.c.id)
        .scalar_subquery()
    )
    state_version: int | None = column(_version("version"))
    state_loaded_at: datetime | None = column(_version("loaded_at"))
    # Computed from the row and the content cache:
    number: int
    revealed: bool
    finished: bool
    essay_title: str
    essay_url: str
    started: str | None
    question_type: str
    prev_url: str | None
    next_url: str | None
    finish_url: str | None
    results_url: str | None
    feedback: Markup | None
    csrf: str | None
    version: int
    fields_html: Markup | None


QUESTION_READ = page_statement(
    QuestionPage,
    _attempt.outerjoin(
        _response,
        and_(
            _response.c.attempt_id == _attempt.c.id,
            _response.c.position == bindparam("position"),
        ),
    ),
    _OWN_ATTEMPT,
)


@dataclass(frozen=True)
class Slot:
    """A question slot of a learner's attempt, as the question page's read found it."""

    row: Row
    learner_id: str
    number: int
    question: QuestionView

    @property
    def attempt_id(self) -> str:
        """The attempt's id."""
        return str(self.row["attempt_id"])

    @property
    def mode(self) -> str:
        """practice or exam."""
        return str(self.row["mode"])

    @property
    def finished(self) -> bool:
        """Whether the attempt is closed."""
        return self.row["finished_at"] is not None

    @property
    def total(self) -> int:
        """How many questions the attempt has."""
        return int(self.row["total"])

    @property
    def order(self) -> list[str]:
        """The stored option order of this question."""
        return list(self.row["slot"]["order"])

    @property
    def content_version(self) -> str:
        """The loaded content's version stamp."""
        return version_stamp(self.row["state_version"], self.row["state_loaded_at"])

    @property
    def stored(self) -> StoredAnswer | None:
        """The answer stored for this question, if any."""
        row = self.row
        if row["stored_question"] != self.question.id or row["stored_answer"] is None:
            return None  # a stored position never names another question
        return StoredAnswer(
            row["stored_question"], row["stored_answer"], row["stored_version"] or 0
        )


def read_slot(attempt_id: str, learner_id: str | None, number: int) -> Slot | None:
    """Question `number` (1-based) of the learner's attempt, in one statement.

    None when the attempt is not this learner's (or does not exist), has no question
    `number`, or names a question that was never loaded.
    """
    if not learner_id or not 1 <= number <= MAX_POSITION:
        return None
    row = first_of(
        QUESTION_READ,
        db.engine,
        attempt_id=attempt_id,
        learner_id=learner_id,
        position=number - 1,
    )
    if row is None or row["slot"] is None:
        return None
    version = version_stamp(row["state_version"], row["state_loaded_at"])
    view = fragments.question(version, row["slot"]["question"])
    if view is None:
        return None
    return Slot(row, learner_id, number, view)


def question_page(
    slot: Slot, csrf: Callable[[], str], fields_html: Markup | None = None
) -> QuestionPage:
    """The question page of `slot`; `fields_html` replaces the empty answer fields
    (a stored answer shown again, or a refused answer with its errors)."""
    row, number, view = slot.row, slot.number, slot.question
    attempt_id, total, finished = slot.attempt_id, slot.total, slot.finished
    version, order, stored = slot.content_version, slot.order, slot.stored
    revealed = finished or (slot.mode == "practice" and stored is not None)
    feedback = None
    if revealed:
        answer = stored.answer if stored is not None else None
        feedback = fragments.revealed_html(version, view, order, answer)
    elif fields_html is None:
        if stored is None:
            fields_html = fragments.answer_fields_html(version, view, order)
        else:
            fields_html = fragments.stored_fields_html(view, order, stored.answer)
    return QuestionPage(
        **_from_row(QuestionPage, row),
        number=number,
        revealed=revealed,
        finished=finished,
        essay_title=view.essay_title,
        essay_url=fragments.essay_url(view.essay_slug),
        started=None
        if finished or slot.mode != "exam"
        else row["started_at"].isoformat(),
        question_type=view.type,
        prev_url=attempt_url(".question", attempt_id, number - 1)
        if number > 1
        else None,
        next_url=attempt_url(".question", attempt_id, number + 1)
        if number < total
        else None,
        finish_url=None if finished else attempt_url(".finish", attempt_id),
        results_url=attempt_url(".results", attempt_id) if finished else None,
        feedback=feedback,
        csrf=None if revealed else csrf(),
        version=stored.version if stored is not None and not revealed else 0,
        fields_html=None if revealed else fields_html,
    )


# ---------------------------------------------------------------------------------
# A whole attempt: the results page and the finish page.
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptRecord(AttemptFacts):
    """A learner's attempt with every stored answer, as the results read them."""

    id: str = column(_attempt.c.id)
    title: str = column(_attempt.c.title)
    mode: str = column(_attempt.c.mode)
    layout: list[dict[str, Any]] = column(_attempt.c.layout)
    started_at: datetime = column(_attempt.c.started_at)
    finished_at: datetime | None = column(_attempt.c.finished_at)
    score: float | None = column(_attempt.c.score)
    state_version: int | None = column(_version("version"))
    state_loaded_at: datetime | None = column(_version("loaded_at"))
    answers: dict[str, tuple[dict[str, Any], float]] = dataclasses.field(
        default_factory=dict
    )  # question id -> (answer, score)

    @property
    def content_version(self) -> str:
        """The loaded content's version stamp."""
        return version_stamp(self.state_version, self.state_loaded_at)


ATTEMPT_READ = page_statement(AttemptRecord, _attempt, _OWN_ATTEMPT)
ANSWERS_READ = FastStatement(
    select(
        _response.c.question_id.label("question_id"),
        _response.c.answer.label("answer"),
        _response.c.score.label("score"),
    ).where(_response.c.attempt_id == bindparam("attempt_id"))
)


def read_attempt(attempt_id: str, learner_id: str | None) -> AttemptRecord | None:
    """The learner's attempt and all its answers (two statements); None otherwise."""
    if not learner_id:
        return None
    attempts, answers = all_of(
        [
            (ATTEMPT_READ, {"attempt_id": attempt_id, "learner_id": learner_id}),
            (ANSWERS_READ, {"attempt_id": attempt_id}),
        ],
        db.engine,
    )
    if not attempts:
        return None
    return AttemptRecord(
        **_from_row(AttemptRecord, attempts[0]),
        answers={a["question_id"]: (a["answer"], a["score"]) for a in answers},
    )


def missed_among(question_ids: Sequence[str], scores: dict[str, float]) -> list[str]:
    """The ids scored below full marks (or not answered), in the given order."""
    return [qid for qid in question_ids if scores.get(qid, 0.0) < 1.0]


@dataclass(frozen=True)
class ResultsPage:
    """Score, time taken and the review of every question of a finished attempt."""

    TEMPLATE: ClassVar[str] = "quiz/results.html"
    SHAPE: ClassVar[tuple[str, ...]] = ()

    title: str
    percent: int
    points: str
    total: int
    answered: int
    duration: str
    mode_label: str
    retry_url: str | None
    retry_label: str
    missed_deck_url: str
    csrf: str | None
    reviews: Markup


def results_page(record: AttemptRecord, csrf: str) -> ResultsPage:
    """The results of a finished attempt."""
    version = record.content_version
    views = fragments.questions(version, record.question_ids)
    items = []
    for number, slot in enumerate(record.layout, start=1):
        view = views[slot["question"]]
        stored = record.answers.get(view.id)
        answer = stored[0] if stored is not None else None
        items.append(
            fragments.review_item_html(version, view, number, slot["order"], answer)
        )
    scores = {qid: score for qid, (_, score) in record.answers.items()}
    missed = missed_among(record.question_ids, scores)
    score, total = record.score or 0.0, len(record.layout)
    taken = (record.finished_at or record.started_at) - record.started_at
    return ResultsPage(
        title=record.title,
        percent=round(score * 100),
        points=f"{score * total:.1f}",
        total=total,
        answered=len(record.answers),
        duration=duration(taken),
        mode_label="Practice" if record.mode == "practice" else "Exam",
        retry_url=attempt_url(".retry", record.id) if missed else None,
        retry_label=f"Retry the {len(missed)} question"
        + ("" if len(missed) == 1 else "s")
        + " I missed",
        missed_deck_url=attempt_url(".deck_missed", record.id),
        csrf=csrf if missed else None,
        reviews=Markup("").join(items),
    )


def duration(taken: timedelta) -> str:
    """A time span as the results show it: `1 h 2 min 3 s`."""
    seconds = max(0, int(taken.total_seconds()))
    hours = f"{seconds // 3600} h " if seconds >= 3600 else ""
    return f"{hours}{seconds % 3600 // 60} min {seconds % 60} s"


@dataclass(frozen=True)
class FinishPage:
    """What is still unanswered before an attempt is closed."""

    TEMPLATE: ClassVar[str] = "quiz/finish.html"
    SHAPE: ClassVar[tuple[str, ...]] = ("mode", "unanswered", "total")

    title: str
    mode: str
    total: int
    unanswered: tuple[int, ...]
    question_urls: dict[int, str]
    keep_working_url: str
    csrf: str


def finish_page(record: AttemptRecord, csrf: str) -> FinishPage:
    """The finish page of an open attempt."""
    unanswered = tuple(
        n
        for n, qid in enumerate(record.question_ids, start=1)
        if qid not in record.answers
    )
    urls = {n: attempt_url(".question", record.id, n) for n in unanswered}
    return FinishPage(
        title=record.title,
        mode=record.mode,
        total=len(record.layout),
        unanswered=unanswered,
        question_urls=urls,
        keep_working_url=attempt_url(
            ".question", record.id, unanswered[0] if unanswered else 1
        ),
        csrf=csrf,
    )


# ---------------------------------------------------------------------------------
# The catalogue.
# ---------------------------------------------------------------------------------

_card = StudyCard.__table__
# The learner's study cards due now (the index on learner and due answers it).
_DUE_NOW = (
    select(func.count())
    .select_from(_card)
    .where(
        _card.c.learner_id == bindparam("learner_id"), _card.c.due <= bindparam("now")
    )
    .scalar_subquery()
)

CATALOGUE_READ = FastStatement(
    select(
        _state.c.version.label("state_version"),
        _state.c.loaded_at.label("state_loaded_at"),
        _DUE_NOW.label("due_now"),
        _attempt.c.quiz_id.label("quiz_id"),
        func.max(_attempt.c.score).label("best"),
        func.max(case((_attempt.c.finished_at.is_(None), _attempt.c.id))).label(
            "open_attempt"
        ),
    )
    .select_from(
        _state.outerjoin(
            _attempt,
            and_(
                _attempt.c.learner_id == bindparam("learner_id"),
                _attempt.c.quiz_id.is_not(None),
            ),
        )
    )
    .where(_state.c.id == 1)
    .group_by(_state.c.version, _state.c.loaded_at, _attempt.c.quiz_id)
)


@dataclass(frozen=True)
class CataloguePage:
    """One page of quiz cards with the learner's best score and Start/Resume each."""

    TEMPLATE: ClassVar[str] = "quiz/catalogue.html"
    SHAPE: ClassVar[tuple[str, ...]] = ("page", "pages")
    BAKED: ClassVar[tuple[str, ...]] = ("cards", "essays")  # by version and page

    page: int
    pages: int
    cards: tuple[fragments.Card, ...]
    essays: tuple[tuple[str, str], ...]
    best: tuple[str, ...]
    actions: tuple[str, ...]
    due_label: str
    csrf: str


class PageOutOfRange(LookupError):
    """A catalogue page number past the last page."""

    def __init__(self, pages: int) -> None:
        """Remember how many pages there are."""
        super().__init__(pages)
        self.pages = pages


def catalogue_page(learner_id: str, page: int, csrf: str) -> tuple[CataloguePage, str]:
    """Catalogue page `page` for this learner, and the content version it shows."""
    params = {"learner_id": learner_id, "now": utcnow()}
    (rows,) = all_of([(CATALOGUE_READ, params)], db.engine)
    version, due_now = "", 0
    best: dict[int, float] = {}
    resume: set[int] = set()
    for row in rows:
        version = version_stamp(row["state_version"], row["state_loaded_at"])
        due_now = row["due_now"] or 0
        if row["quiz_id"] is None:
            continue
        if row["best"] is not None:
            best[row["quiz_id"]] = row["best"]
        if row["open_attempt"] is not None:
            resume.add(row["quiz_id"])
    listed = fragments.listing(version)
    size = current_app.config["CATALOGUE_PAGE_SIZE"]
    pages = max(1, -(-len(listed.cards) // size))
    if not 1 <= page <= pages:
        raise PageOutOfRange(pages)
    cards = listed.cards[(page - 1) * size : page * size]
    return CataloguePage(
        page=page,
        pages=pages,
        cards=cards,
        essays=listed.essays,
        best=tuple(
            "not taken yet" if card.id not in best else f"{best[card.id]:.0%}"
            for card in cards
        ),
        actions=tuple("Resume" if card.id in resume else "Start" for card in cards),
        due_label=f"{due_now} card" + ("" if due_now == 1 else "s"),
        csrf=csrf,
    ), version


_VERSION = FastStatement(
    select(
        _state.c.version.label("state_version"),
        _state.c.loaded_at.label("state_loaded_at"),
    ).where(_state.c.id == 1)
)


def content_version() -> str:
    """The loaded content's version stamp ("" before the first load), fast."""
    row = first_of(_VERSION, db.engine)
    return version_stamp(row["state_version"], row["state_loaded_at"]) if row else ""
