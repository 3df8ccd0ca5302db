"""A learner's review history from elsewhere, merged into their FSRS cards.

Every way a history arrives (an Anki export, a progress JSON file, a second
browser joining the same learner) ends here as a list of `Event`s: a rating of a
question at a moment. `merge_events` keeps each review once, whoever sent it,
and replays each touched question's reviews in time order through the scheduler,
so the card's memory state and due date are what FSRS makes of the whole history.

A review is the same review when it is of the same question at the same
millisecond (Anki's revlog ids are milliseconds; the browser's deck carries its
reviews to Anki at that precision, so a round trip browser -> Anki -> browser
finds them held).

The caller holds the write lock (`quizapp.database.write_lock`), has created the
learner row, and commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from fsrs import Rating
from sqlalchemy import delete, select, update

from ..extensions import db
from ..models import Question, ReviewLog, StudyCard
from .days import as_utc
from .scheduler import CardState, Review, rate

SOURCES = frozenset({"study", "practice", "exam", "anki"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_card = StudyCard.__table__
_log = ReviewLog.__table__


@dataclass(frozen=True)
class Event:
    """One rating of a question at a moment, from any source."""

    question_id: str
    reviewed_at: datetime
    rating: int
    source: str
    duration_ms: int | None = None

    def __post_init__(self) -> None:
        """Reject what no caller should build: a bad rating, source or naive time."""
        if self.rating not in (1, 2, 3, 4):
            raise ValueError(f"rating {self.rating!r} is not 1-4")
        if self.source not in SOURCES:
            raise ValueError(f"unknown review source {self.source!r}")
        if self.reviewed_at.tzinfo is None:
            raise ValueError("reviewed_at must carry a time zone")

    @property
    def key(self) -> int:
        """The review's identity within its question: its time in milliseconds."""
        return millis(self.reviewed_at)


@dataclass(frozen=True)
class Merged:
    """What a merge did."""

    added: int
    held: int  # reviews already in the learner's history (or repeated in the input)
    unknown: int  # reviews of questions not in the bank
    questions: int  # questions whose card changed


def millis(moment: datetime) -> int:
    """Milliseconds since the epoch, exactly (no float rounding)."""
    return (as_utc(moment) - _EPOCH) // _MS


def from_millis(value: int) -> datetime:
    """The UTC moment `millis` gave."""
    return _EPOCH + value * _MS


def replay(
    events: Sequence[Event], desired_retention: float, card: CardState | None = None
) -> list[Review]:
    """Each event's review, applied in order from `card` (None: a new card)."""
    reviews = []
    for event in events:
        review = rate(card, Rating(event.rating), event.reviewed_at, desired_retention)
        reviews.append(review)
        card = review.after
    return reviews


def learner_events(learner_id: str) -> list[Event]:
    """Every review the learner holds, as events, oldest first."""
    lg, c = _log.c, _card.c
    rows = db.session.execute(
        select(
            c.question_id,
            lg.reviewed_at,
            lg.rating,
            lg.source,
            lg.duration_ms,
        )
        .join(_card, c.id == lg.card_id)
        .where(lg.learner_id == learner_id)
        .order_by(lg.reviewed_at, lg.id)
    ).all()
    return [
        Event(r.question_id, as_utc(r.reviewed_at), r.rating, r.source, r.duration_ms)
        for r in rows
    ]


def merge_events(
    learner_id: str, events: Iterable[Event], desired_retention: float
) -> Merged:
    """Add the reviews the learner does not hold yet, and replay what changed.

    For a question whose new reviews all come after its last held one, the card
    goes on from its stored state (the fast path; under TESTING it is checked
    against a full replay). Otherwise its whole history is replayed from the
    start and its log rows written again in time order (their ids change, so an
    Undo shown before the merge no longer matches and does nothing).
    """
    incoming: dict[str, dict[int, Event]] = defaultdict(dict)
    repeated = 0
    for event in events:
        bucket = incoming[event.question_id]
        if event.key in bucket:
            repeated += 1
        else:
            bucket[event.key] = event
    if not incoming:
        return Merged(0, repeated, 0, 0)
    known = set(
        db.session.scalars(select(Question.id).where(Question.id.in_(incoming)))
    )
    unknown = sum(len(v) for k, v in incoming.items() if k not in known)
    wanted = [qid for qid in incoming if qid in known]
    c, lg = _card.c, _log.c
    cards = {
        row.question_id: row
        for row in db.session.execute(
            select(_card)
            .where(c.learner_id == learner_id, c.question_id.in_(wanted))
            .with_for_update()
        )
    }
    held: dict[int, list[Event]] = defaultdict(list)
    if cards:
        by_card = {row.id: row.question_id for row in cards.values()}
        for r in db.session.execute(
            select(lg.card_id, lg.reviewed_at, lg.rating, lg.source, lg.duration_ms)
            .where(lg.learner_id == learner_id, lg.card_id.in_(by_card))
            .order_by(lg.reviewed_at, lg.id)
        ):
            held[r.card_id].append(
                Event(
                    by_card[r.card_id],
                    as_utc(r.reviewed_at),
                    r.rating,
                    r.source,
                    r.duration_ms,
                )
            )
    added = duplicates = changed = 0
    for question_id in wanted:
        row = cards.get(question_id)
        old = held.get(row.id, []) if row is not None else []
        old_keys = {e.key for e in old}
        new = sorted(
            (e for k, e in incoming[question_id].items() if k not in old_keys),
            key=lambda e: e.key,
        )
        duplicates += len(incoming[question_id]) - len(new)
        if not new:
            continue
        added += len(new)
        changed += 1
        if row is not None and old and new[0].key > old[-1].key:
            reviews = replay(new, desired_retention, CardState.from_row(row))
            if current_app.testing:
                _check_fast_path(old + new, reviews[-1].after, desired_retention)
            _write(learner_id, question_id, row.id, new, reviews, rebuild=False)
        else:
            timeline = sorted(old + new, key=lambda e: e.key)
            reviews = replay(timeline, desired_retention)
            _write(
                learner_id,
                question_id,
                row.id if row is not None else None,
                timeline,
                reviews,
                rebuild=True,
            )
    return Merged(added, duplicates + repeated, unknown, changed)


def _check_fast_path(
    timeline: list[Event], fast: CardState, desired_retention: float
) -> None:
    plain = replay(timeline, desired_retention)[-1].after
    if plain != fast:
        raise AssertionError(
            f"continuing a card gave {fast}, replaying its history gave {plain}"
        )


def _write(
    learner_id: str,
    question_id: str,
    card_id: int | None,
    events: Sequence[Event],
    reviews: Sequence[Review],
    rebuild: bool,
) -> None:
    final = reviews[-1].after
    values = {
        "state": final.state,
        "step": final.step,
        "stability": final.stability,
        "difficulty": final.difficulty,
        "due": final.due,
        "last_review": final.last_review,
        "reps": final.reps,
        "lapses": final.lapses,
    }
    if card_id is None:
        card_id = db.session.execute(
            _card.insert()
            .values(learner_id=learner_id, question_id=question_id, **values)
            .returning(_card.c.id)
        ).scalar_one()
    else:
        if rebuild:
            db.session.execute(delete(_log).where(_log.c.card_id == card_id))
        db.session.execute(update(_card).where(_card.c.id == card_id).values(**values))
    db.session.execute(
        _log.insert(),
        [
            {
                "card_id": card_id,
                "learner_id": learner_id,
                "reviewed_at": review.reviewed_at,
                "rating": int(review.rating),
                "source": event.source,
                "state_before": review.before.state if review.before else None,
                "before": review.before.to_json() if review.before else None,
                "state_after": review.after.state,
                "stability_after": review.after.stability,
                "difficulty_after": review.after.difficulty,
                "interval_seconds": review.interval_seconds,
                "duration_ms": event.duration_ms,
            }
            for event, review in zip(events, reviews, strict=True)
        ],
    )
