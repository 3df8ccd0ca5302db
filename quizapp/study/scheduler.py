"""FSRS through py-fsrs: card rows <-> fsrs.Card, rating, previews, retrievability.

Pure functions: no Flask, no database. The scheduler uses FSRS's default
parameters (the optimizer needs torch and is out of scope) and no interval fuzz,
so the interval a button shows is the interval the card gets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from fsrs import Card, Rating, Scheduler, State

from .days import as_utc

RATINGS = (Rating.Again, Rating.Hard, Rating.Good, Rating.Easy)
RATING_LABELS = {
    Rating.Again: "Again",
    Rating.Hard: "Hard",
    Rating.Good: "Good",
    Rating.Easy: "Easy",
}
# fsrs.Card wants an id; ours live in the database, and an explicit one spares
# py-fsrs' sleep(0.001) for a unique time-based id.
_CARD_ID = 1


@lru_cache(maxsize=32)
def scheduler(desired_retention: float) -> Scheduler:
    """The FSRS scheduler for one desired retention, default parameters, no fuzz."""
    return Scheduler(desired_retention=desired_retention, enable_fuzzing=False)


@dataclass(frozen=True)
class CardState:
    """Everything a study card row holds about memory, as plain values (UTC times)."""

    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    reps: int
    lapses: int

    def to_json(self) -> dict[str, Any]:
        """The state as JSON values: floats and ISO times round-trip exactly."""
        values = asdict(self)
        values["due"] = self.due.isoformat()
        values["last_review"] = self.last_review and self.last_review.isoformat()
        return values

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> CardState:
        """The state `to_json` wrote."""
        last = values["last_review"]
        return cls(
            state=values["state"],
            step=values["step"],
            stability=values["stability"],
            difficulty=values["difficulty"],
            due=as_utc(datetime.fromisoformat(values["due"])),
            last_review=as_utc(datetime.fromisoformat(last)) if last else None,
            reps=values["reps"],
            lapses=values["lapses"],
        )

    @classmethod
    def from_row(cls, row: Any) -> CardState:
        """From anything with the card's column names (an ORM row, a named row)."""
        return cls(
            state=row.state,
            step=row.step,
            stability=row.stability,
            difficulty=row.difficulty,
            due=as_utc(row.due),
            last_review=as_utc(row.last_review) if row.last_review else None,
            reps=row.reps,
            lapses=row.lapses,
        )


def to_fsrs(card: CardState | None, now: datetime) -> Card:
    """The fsrs.Card for a stored state; a fresh learning card for a new question."""
    if card is None:
        return Card(card_id=_CARD_ID, state=State.Learning, due=as_utc(now))
    return Card(
        card_id=_CARD_ID,
        state=State(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=card.due,
        last_review=card.last_review,
    )


@dataclass(frozen=True)
class Review:
    """A rating applied: the card's state after it, and what its log row records."""

    before: CardState | None
    after: CardState
    rating: Rating
    reviewed_at: datetime

    @property
    def interval_seconds(self) -> int:
        """Seconds until the card is due again."""
        return round((self.after.due - self.reviewed_at).total_seconds())


def rate(
    card: CardState | None, rating: Rating, now: datetime, desired_retention: float
) -> Review:
    """Rate a card (None: a new question) at `now`; nothing is stored here."""
    now = as_utc(now)
    reviewed, _log = scheduler(desired_retention).review_card(
        to_fsrs(card, now), rating, now
    )
    lapsed = card is not None and card.state == State.Review and rating == Rating.Again
    after = CardState(
        state=int(reviewed.state),
        step=reviewed.step,
        stability=reviewed.stability,
        difficulty=reviewed.difficulty,
        due=as_utc(reviewed.due),
        last_review=now,
        reps=(card.reps if card else 0) + 1,
        lapses=(card.lapses if card else 0) + int(lapsed),
    )
    return Review(card, after, rating, now)


def previews(
    card: CardState | None, now: datetime, desired_retention: float
) -> dict[Rating, timedelta]:
    """How long until the card comes back after each rating, computed, not stored."""
    return {
        rating: rate(card, rating, now, desired_retention).after.due - as_utc(now)
        for rating in RATINGS
    }


def suggested_rating(score: float) -> Rating:
    """The rating a grade suggests: wrong Again, partly right Hard, right Good."""
    if score <= 0:
        return Rating.Again
    return Rating.Good if score >= 1 else Rating.Hard


def retrievability(card: CardState, now: datetime, desired_retention: float) -> float:
    """The chance, by FSRS, that the learner recalls the card at `now`."""
    return float(
        scheduler(desired_retention).get_card_retrievability(
            to_fsrs(card, now), as_utc(now)
        )
    )


def interval_label(interval: timedelta) -> str:
    """An interval as a button shows it: "1 min", "10 min", "5 h", "3 d", "2.5 mo"."""
    seconds = max(0, interval.total_seconds())
    minutes = seconds / 60
    if minutes < 60:
        return f"{max(1, round(minutes))} min"
    hours = minutes / 60
    if hours < 24:
        return f"{round(hours)} h"
    days = hours / 24
    if days < 30:
        return f"{round(days)} d"
    if days < 365:
        return f"{_one_decimal(days / 30)} mo"
    return f"{_one_decimal(days / 365)} y"


def _one_decimal(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")
