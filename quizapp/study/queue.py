"""The study queue and its writes: what is due, ratings stored once, undo.

Reads are two statements whatever the learner's history: `opening` (settings and
content version) and `snapshot` (today's counts and the next card, as scalar
subqueries over the (learner_id, due) and (learner_id, reviewed_at) indexes).
Writes are conditional, so a rating posted twice stores one log row: a card is
inserted only if absent and updated only if its review count is still the one the
learner was shown. Functions here add and flush; the caller commits.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from fsrs import Rating, State
from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import (
    ContentState,
    Essay,
    Learner,
    Question,
    ReviewLog,
    StudyCard,
    StudySettings,
    Tag,
    question_tag,
)
from .days import StudyDay, as_utc, study_day
from .scheduler import CardState, Review, rate, suggested_rating

_card = StudyCard.__table__
_log = ReviewLog.__table__
_question = Question.__table__
_essay = Essay.__table__
_settings = StudySettings.__table__
_state = ContentState.__table__
REVIEW = int(State.Review)
SOURCES = ("study", "practice", "exam", "anki")


@dataclass(frozen=True)
class Settings:
    """A learner's study settings (the defaults until they save their own)."""

    new_per_day: int = 20
    max_reviews_per_day: int = 200
    desired_retention: float = 0.9
    time_zone: str = "UTC"
    day_starts_at_hour: int = 4


DEFAULTS = Settings()


class ScopeError(ValueError):
    """A scope parameter that names no scope."""


_SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_SCOPE_RE = re.compile(
    rf"^(?:(?P<kind>essay|tag):(?P<slug>{_SLUG})"
    rf"|questions:(?P<ids>{_SLUG}(?:,{_SLUG}){{0,49}})"
    r"|attempt:(?P<attempt>[A-Za-z0-9_-]{1,64}))$"
)


@dataclass(frozen=True)
class Scope:
    """Which questions a study session draws from."""

    kind: str = "all"  # all | essay | tag | questions | attempt
    value: str = ""
    ids: tuple[str, ...] = ()

    @property
    def picked(self) -> bool:
        """Questions named one by one (not a whole essay, topic or the bank)."""
        return self.kind in ("questions", "attempt")

    @property
    def token(self) -> str:
        """The scope as the ?scope= parameter spells it ("" for the whole bank)."""
        if self.kind == "all":
            return ""
        if self.kind == "questions":
            return "questions:" + ",".join(self.ids)
        return f"{self.kind}:{self.value}"


def parse_scope(raw: str | None) -> Scope:
    """The scope named by a ?scope= value; ScopeError for anything else."""
    if not raw or raw == "all":
        return Scope()
    match = _SCOPE_RE.match(raw)
    if match is None:
        raise ScopeError(f"There is no study scope called {raw[:80]!r}.")
    if match["kind"]:
        return Scope(match["kind"], match["slug"])
    if match["ids"]:
        ids = tuple(dict.fromkeys(match["ids"].split(",")))
        return Scope("questions", ids=ids)
    return Scope("attempt", match["attempt"])


def with_questions(scope: Scope, ids: list[str]) -> Scope:
    """An attempt scope resolved to its question ids."""
    return Scope(scope.kind, scope.value, tuple(ids))


def _scope_filter(scope: Scope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [_question.c.retired.is_(False)]
    if scope.kind == "essay":
        essay_id = select(_essay.c.id).where(_essay.c.slug == scope.value)
        conditions.append(_question.c.essay_id == essay_id.scalar_subquery())
    elif scope.kind == "tag":
        tagged = (
            select(question_tag.c.question_id)
            .join(Tag.__table__, Tag.__table__.c.id == question_tag.c.tag_id)
            .where(Tag.__table__.c.name == scope.value)
        )
        conditions.append(_question.c.id.in_(tagged))
    elif scope.kind in ("questions", "attempt"):
        conditions.append(_question.c.id.in_(list(scope.ids)))
    return conditions


@dataclass(frozen=True)
class Opening:
    """What every study request reads first: settings, content version, learner."""

    settings: Settings
    content_version: int | None
    content_loaded_at: datetime | None
    learner_exists: bool
    settings_saved: bool


def opening(learner_id: str | None) -> Opening:
    """The learner's settings, the content version and whether the learner row exists.

    One statement, one row, whether or not the learner saved settings.
    """
    anchor = select(literal(1).label("one")).subquery("anchor")
    s = _settings.c
    row = db.session.execute(
        select(
            select(_state.c.version).where(_state.c.id == 1).scalar_subquery(),
            select(_state.c.loaded_at).where(_state.c.id == 1).scalar_subquery(),
            exists().where(Learner.__table__.c.id == learner_id),
            s.new_per_day,
            s.max_reviews_per_day,
            s.desired_retention,
            s.time_zone,
            s.day_starts_at_hour,
        ).select_from(anchor.outerjoin(_settings, s.learner_id == (learner_id or "")))
    ).one()
    settings = DEFAULTS if row[3] is None else Settings(*row[3:])
    return Opening(settings, row[0], row[1], bool(row[2]), row[3] is not None)


def settings_of(learner_id: str | None) -> Settings:
    """The learner's settings, or the defaults."""
    return opening(learner_id).settings


@dataclass(frozen=True)
class Head:
    """The card the queue shows next; `card` is None for a question never seen."""

    question_id: str
    card_id: int | None
    card: CardState | None


@dataclass(frozen=True)
class Snapshot:
    """The queue today: its counts, the next card, when the next card is due."""

    day: StudyDay
    due_learning: int
    due_reviews: int
    new: int
    done_today: int
    new_today: int
    head: Head | None
    next_due: datetime | None
    posted_reps: int | None  # the posted question's review count (None: no card)
    last_log_id: int | None  # the learner's last rating, if study mode can undo it

    @property
    def due(self) -> int:
        """Cards due now: learning steps, and reviews up to the day's limit."""
        return self.due_learning + self.due_reviews


def _count(table: Any, *conditions: ColumnElement[bool]) -> Any:
    return select(func.count()).select_from(table).where(*conditions).scalar_subquery()


def snapshot(
    learner_id: str | None,
    scope: Scope,
    now: datetime,
    settings: Settings,
    posted: str | None = None,
) -> Snapshot:
    """Today's queue for a learner in a scope, read in one statement.

    Due first, most overdue first: cards in a learning step once their due time
    has passed; review cards on their due study day (and not again on a day they
    were already reviewed), while today's reviews are under the daily maximum.
    Then new questions (never rated by this learner) in bank order, while today's
    new cards are under the daily limit. Limits count every source (study and
    quizzes) between today's bounds in the learner's time zone.
    """
    now = as_utc(now)
    day = study_day(now, settings.time_zone, settings.day_starts_at_hour)
    lid = learner_id or ""
    c, lg, q = _card.c, _log.c, _question.c
    in_scope = _scope_filter(scope)
    cards = _card.join(_question, q.id == c.question_id)
    mine = c.learner_id == lid
    today = [
        lg.learner_id == lid,
        lg.reviewed_at >= day.start,
        lg.reviewed_at < day.end,
    ]

    reviews_today = _count(_log, *today, lg.state_before == REVIEW)
    new_today = _count(_log, *today, lg.state_before.is_(None))
    learning_due = and_(c.state != REVIEW, c.due <= now)
    review_due: ColumnElement[bool] = and_(
        c.state == REVIEW, c.due < day.end, c.last_review < day.start
    )
    reviews_open: ColumnElement[bool] = reviews_today < settings.max_reviews_per_day
    new_open: ColumnElement[bool] = new_today < settings.new_per_day
    if scope.picked:
        # Questions picked by name (weakest, missed in an attempt) are studied
        # today whether due or not, once each plus their learning steps, and
        # outside the daily limits: the learner asked for exactly these.
        review_due = and_(~learning_due, c.last_review < day.start)
        reviews_open = new_open = true()
    due_now = or_(learning_due, and_(review_due, reviews_open))
    head = (
        select(c.id, c.question_id, *[c[k] for k in _STATE_COLUMNS])
        .select_from(cards)
        .where(mine, *in_scope, due_now)
        .order_by(c.due, c.id)
        .limit(1)
        .subquery("head")
    )
    unseen = ~exists().where(mine, c.question_id == q.id)
    new_head = (
        select(q.id)
        .select_from(_question.join(_essay, _essay.c.id == q.essay_id))
        .where(*in_scope, unseen, new_open)
        .order_by(_essay.c.position, q.position, q.id)
        .limit(1)
        .scalar_subquery()
    )
    latest = (
        select(lg.id, lg.source)
        .where(lg.learner_id == lid)
        .order_by(lg.reviewed_at.desc(), lg.id.desc())
        .limit(1)
        .subquery("latest")
    )
    anchor = select(literal(1).label("one")).subquery("anchor")
    row = db.session.execute(
        select(
            _count(cards, mine, *in_scope, learning_due),
            _count(cards, mine, *in_scope, review_due),
            reviews_today,
            new_today,
            _count(_log, *today),
            _count(_question, *in_scope, unseen),
            select(func.min(c.due))
            .select_from(cards)
            .where(mine, *in_scope, c.due > now)
            .scalar_subquery(),
            new_head,
            select(c.reps)
            .where(mine, c.question_id == (posted or ""))
            .scalar_subquery(),
            select(latest.c.id).where(latest.c.source == "study").scalar_subquery(),
            *head.c,
        ).select_from(anchor.outerjoin(head, true()))
    ).one()
    (learning, reviews, done_reviews, done_new, done, unseen_count) = row[:6]
    next_due, new_id, posted_reps, last_log = row[6:10]
    card_id, question_id, *state = row[10:]
    reviews_left = max(0, settings.max_reviews_per_day - done_reviews)
    new_left = max(0, settings.new_per_day - done_new)
    if scope.picked:
        reviews_left = new_left = unseen_count + reviews
    found: Head | None = None
    if card_id is not None:
        found = Head(question_id, card_id, CardState.from_row(_named(state)))
    elif new_id is not None:
        found = Head(new_id, None, None)
    return Snapshot(
        day=day,
        due_learning=learning,
        due_reviews=min(reviews, reviews_left),
        new=min(unseen_count, new_left),
        done_today=done,
        new_today=done_new,
        head=found,
        next_due=as_utc(next_due) if next_due is not None else None,
        posted_reps=posted_reps,
        last_log_id=last_log,
    )


_STATE_COLUMNS = (
    "state",
    "step",
    "stability",
    "difficulty",
    "due",
    "last_review",
    "reps",
    "lapses",
)


@dataclass(frozen=True)
class _Named:
    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    reps: int
    lapses: int


def _named(values: list[Any]) -> _Named:
    return _Named(*values)


def _insert(table: Any) -> Any:
    dialect = db.session.get_bind().dialect.name
    return (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table)


def store_review(
    learner_id: str,
    question_id: str,
    card_id: int | None,
    review: Review,
    source: str,
    duration_ms: int | None = None,
) -> bool:
    """Store a rating computed from the card as the learner saw it; False if stale.

    A new card is inserted only if the learner has none for the question; a known
    card is updated only if its review count is still `review.before.reps`. Either
    way a second copy of the same rating (double click, two tabs, two workers)
    finds the condition false and stores nothing: one log row per rating.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown review source {source!r}")
    after = review.after
    values = {k: getattr(after, k) for k in _STATE_COLUMNS}
    if review.before is None:
        card_id = db.session.execute(
            _insert(_card)
            .values(learner_id=learner_id, question_id=question_id, **values)
            .on_conflict_do_nothing(index_elements=["learner_id", "question_id"])
            .returning(_card.c.id)
        ).scalar()
        if card_id is None:
            return False
    else:
        changed = db.session.execute(
            update(_card)
            .where(_card.c.id == card_id, _card.c.reps == review.before.reps)
            .values(**values)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            return False
    db.session.execute(
        _log.insert().values(
            card_id=card_id,
            learner_id=learner_id,
            reviewed_at=review.reviewed_at,
            rating=int(review.rating),
            source=source,
            state_before=review.before.state if review.before else None,
            before=review.before.to_json() if review.before else None,
            state_after=after.state,
            stability_after=after.stability,
            difficulty_after=after.difficulty,
            interval_seconds=review.interval_seconds,
            duration_ms=duration_ms,
        )
    )
    return True


def card_of(
    learner_id: str, question_id: str, lock: bool = False
) -> tuple[int, CardState] | None:
    """The learner's card for a question (row-locked with `lock`), or None."""
    query = select(_card.c.id, *[_card.c[k] for k in _STATE_COLUMNS]).where(
        _card.c.learner_id == learner_id, _card.c.question_id == question_id
    )
    if lock:
        query = query.with_for_update()
    row = db.session.execute(query).first()
    if row is None:
        return None
    return row[0], CardState.from_row(_named(list(row[1:])))


def record_quiz_review(
    learner_id: str,
    question_id: str,
    score: float,
    source: str,
    now: datetime,
    duration_ms: int | None = None,
) -> bool:
    """Count a graded quiz answer as a review with the rating its score suggests.

    For the quiz: the first graded answer to a question in a practice attempt
    (source "practice"), every answer of an exam at finish ("exam"). The learner
    row must exist. The card row is locked, so concurrent calls apply in turn.
    """
    settings = settings_of(learner_id)
    found = card_of(learner_id, question_id, lock=True)
    card_id, card = found if found else (None, None)
    review = rate(card, suggested_rating(score), now, settings.desired_retention)
    return store_review(learner_id, question_id, card_id, review, source, duration_ms)


def head_review(
    head: Head, rating: Rating, now: datetime, settings: Settings
) -> Review:
    """The schedule `rating` gives the queue's current card (pure: no database)."""
    return rate(head.card, rating, now, settings.desired_retention)


def rate_head(
    learner_id: str,
    head: Head,
    rating: Rating,
    now: datetime,
    settings: Settings,
    duration_ms: int | None = None,
    review: Review | None = None,
) -> bool:
    """Rate the queue's current card in study mode; False if it was rated already.

    `review` is head_review()'s schedule when the caller computed it before taking
    the write lock (store_review re-checks the card's review count under it).
    """
    if review is None:
        review = head_review(head, rating, now, settings)
    return store_review(
        learner_id, head.question_id, head.card_id, review, "study", duration_ms
    )


def undo_last(learner_id: str, log_id: int | None = None) -> bool:
    """Take back the learner's last study rating: card restored exactly, log deleted.

    Only the learner's latest rating can be undone, and only a study one (a quiz
    answer is not taken back here); with `log_id`, only if that rating is still the
    latest (a second click of the same Undo does nothing). False if nothing changed.
    """
    lg = _log.c
    latest = db.session.execute(
        select(lg.id, lg.card_id, lg.source, lg.before)
        .where(lg.learner_id == learner_id)
        .order_by(lg.reviewed_at.desc(), lg.id.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if latest is None or latest.source != "study":
        return False
    if log_id is not None and latest.id != log_id:
        return False
    gone = db.session.execute(
        delete(_log).where(lg.id == latest.id, lg.learner_id == learner_id)
    )
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        return False
    if latest.before is None:
        db.session.execute(delete(_card).where(_card.c.id == latest.card_id))
    else:
        before = CardState.from_json(latest.before)
        db.session.execute(
            update(_card)
            .where(_card.c.id == latest.card_id)
            .values({k: getattr(before, k) for k in _STATE_COLUMNS})
        )
    return True


def save_settings(learner_id: str, settings: Settings, new: bool = False) -> None:
    """Store a learner's settings; with `new`, only if they have none yet."""
    values = asdict(settings)
    statement = _insert(_settings).values(learner_id=learner_id, **values)
    if new:
        statement = statement.on_conflict_do_nothing(index_elements=["learner_id"])
    else:
        statement = statement.on_conflict_do_update(
            index_elements=["learner_id"], set_=values
        )
    db.session.execute(statement)
