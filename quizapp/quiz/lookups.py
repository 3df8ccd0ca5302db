"""The learner's own rows for the hot pages, each page's in one or two statements.

Everything else a page shows comes from content, cached per content version
(fragments.py); the content version rides along in these statements as a scalar
subquery, so knowing whether the cache is current costs no extra round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, and_, bindparam, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..extensions import db
from ..fastread import FastStatement, all_of, first_of
from ..models import Attempt, AttemptFacts, ContentState, Response

_attempt = Attempt.__table__
_response = Response.__table__
_state = ContentState.__table__


def _version_columns() -> list[Any]:
    return [
        select(_state.c.version).where(_state.c.id == 1).scalar_subquery(),
        select(_state.c.loaded_at).where(_state.c.id == 1).scalar_subquery(),
    ]


def version_stamp(version: int | None, loaded_at: datetime | None) -> str:
    """The content version as one string: the version and when it was loaded.

    Both, so a cache never mistakes one database's version 1 for another's (tests,
    a rebuilt database behind a running process).
    """
    if version is None or loaded_at is None:
        return ""
    return f"{version}@{loaded_at.isoformat()}"


@dataclass(frozen=True)
class AttemptRow(AttemptFacts):
    """An attempt as its pages show it (no ORM object, no lazy loads)."""

    id: str
    title: str
    mode: str
    layout: list[dict[str, Any]]
    started_at: datetime
    finished_at: datetime | None
    score: float | None


_ATTEMPT_COLUMNS = [
    _attempt.c.id,
    _attempt.c.title,
    _attempt.c.mode,
    _attempt.c.layout,
    _attempt.c.started_at,
    _attempt.c.finished_at,
    _attempt.c.score,
]
_OWN_ATTEMPT = and_(
    _attempt.c.id == bindparam("attempt_id"),
    _attempt.c.learner_id == bindparam("learner_id"),
)


@dataclass(slots=True)
class StoredAnswer:
    """A response as the question page needs it."""

    question_id: str
    answer: dict[str, Any]
    version: int


@dataclass(slots=True)
class SlotLookup:
    """One question slot of a learner's attempt: the attempt, its answer, progress.

    `attempt.layout` holds just this slot (the rest is not read); `total` is the
    length of the whole layout.
    """

    attempt: AttemptRow
    slot: dict[str, Any]
    total: int
    response: StoredAnswer | None
    answered: int
    content_version: str


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


# Positions are INTEGER columns; a larger number in a URL names no question.
MAX_POSITION = 2**31 - 1

_counted = _response.alias("counted")
_SLOT = FastStatement(
    select(
        _attempt.c.id,
        _attempt.c.title,
        _attempt.c.mode,
        _LayoutItem(_attempt.c.layout, bindparam("position")),
        _attempt.c.started_at,
        _attempt.c.finished_at,
        _attempt.c.score,
        func.json_array_length(_attempt.c.layout),
        _response.c.question_id,
        _response.c.answer,
        _response.c.version,
        select(func.count())
        .select_from(_counted)
        .where(_counted.c.attempt_id == _attempt.c.id)
        .scalar_subquery(),
        *_version_columns(),
    )
    .select_from(
        _attempt.outerjoin(
            _response,
            and_(
                _response.c.attempt_id == _attempt.c.id,
                _response.c.position == bindparam("position"),
            ),
        )
    )
    .where(_OWN_ATTEMPT)
)


def slot(attempt_id: str, learner_id: str | None, number: int) -> SlotLookup | None:
    """The learner's attempt with the answer stored for question `number` (1-based).

    None when the attempt is not this learner's (or does not exist), or has no
    question `number`.
    """
    if not learner_id or not 1 <= number <= MAX_POSITION:
        return None
    row = first_of(
        _SLOT,
        db.engine,
        attempt_id=attempt_id,
        learner_id=learner_id,
        position=number - 1,
    )
    if row is None or row[3] is None:
        return None
    item = row[3]
    attempt = AttemptRow(*row[:3], [item], *row[4:7])
    total, question_id, answer, version, answered, state_version, loaded_at = row[7:]
    response = None
    if question_id is not None:
        response = StoredAnswer(question_id, answer, version)
    return SlotLookup(
        attempt,
        item,
        total,
        response,
        answered,
        version_stamp(state_version, loaded_at),
    )


@dataclass(frozen=True)
class ScoredAnswer:
    """A response as the results page needs it."""

    answer: dict[str, Any]
    score: float


@dataclass(frozen=True)
class AttemptLookup:
    """A learner's attempt with every response, for the results page."""

    attempt: AttemptRow
    responses: dict[str, ScoredAnswer]
    content_version: str


_ATTEMPT = FastStatement(
    select(*_ATTEMPT_COLUMNS, *_version_columns()).where(_OWN_ATTEMPT)
)
_RESPONSES = FastStatement(
    select(_response.c.question_id, _response.c.answer, _response.c.score).where(
        _response.c.attempt_id == bindparam("attempt_id")
    )
)


def whole_attempt(attempt_id: str, learner_id: str | None) -> AttemptLookup | None:
    """The learner's attempt and all its responses; None for anyone else's."""
    if not learner_id:
        return None
    attempts, responses = all_of(
        [
            (_ATTEMPT, {"attempt_id": attempt_id, "learner_id": learner_id}),
            (_RESPONSES, {"attempt_id": attempt_id}),
        ],
        db.engine,
    )
    if not attempts:
        return None
    row = attempts[0]
    return AttemptLookup(
        AttemptRow(*row[:7]),
        {qid: ScoredAnswer(answer, score) for qid, answer, score in responses},
        version_stamp(*row[7:]),
    )


@dataclass(frozen=True)
class LearnerRecord:
    """The catalogue's per-learner figures, and the content version."""

    content_version: str
    best: dict[int, float]
    resume: dict[int, str]


_RECORD = FastStatement(
    select(
        _state.c.version,
        _state.c.loaded_at,
        _attempt.c.quiz_id,
        func.max(_attempt.c.score),
        func.max(case((_attempt.c.finished_at.is_(None), _attempt.c.id))),
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


def learner_record(learner_id: str | None) -> LearnerRecord:
    """Best score and open attempt per quiz for this learner, in one statement."""
    (rows,) = all_of([(_RECORD, {"learner_id": learner_id or ""})], db.engine)
    if not rows:
        return LearnerRecord("", {}, {})
    best: dict[int, float] = {}
    resume: dict[int, str] = {}
    for _version, _loaded_at, quiz_id, score, open_id in rows:
        if quiz_id is None:
            continue
        if score is not None:
            best[quiz_id] = score
        if open_id is not None:
            resume[quiz_id] = open_id
    return LearnerRecord(version_stamp(rows[0][0], rows[0][1]), best, resume)


_VERSION = FastStatement(
    select(_state.c.version, _state.c.loaded_at).where(_state.c.id == 1)
)


def content_version() -> str:
    """The loaded content's version stamp ("" before the first load), fast."""
    row = first_of(_VERSION, db.engine)
    return version_stamp(*row) if row else ""
