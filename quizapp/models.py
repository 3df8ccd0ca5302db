"""The tables: essays and passages, questions and quizzes, learners and attempts."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    """Timezone-aware now, the one clock every timestamp column uses."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive value (SQLite drops the zone) is UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def new_token() -> str:
    """A random, unguessable public id (attempts, learners)."""
    return secrets.token_urlsafe(16)


class Essay(db.Model):
    """One source essay; its passages carry the anchors questions cite."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(default=0)
    passages: Mapped[list[Passage]] = relationship(
        back_populates="essay",
        order_by="Passage.position",
        cascade="all, delete-orphan",
    )


class Passage(db.Model):
    """A paragraph of an essay, addressable as /essays/<slug>#<anchor>."""

    __table_args__ = (UniqueConstraint("essay_id", "anchor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    essay_id: Mapped[int] = mapped_column(ForeignKey("essay.id"), index=True)
    anchor: Mapped[str] = mapped_column(String(50))
    position: Mapped[int]
    section: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    essay: Mapped[Essay] = relationship(back_populates="passages")


question_tag = db.Table(
    "question_tag",
    db.Column("question_id", ForeignKey("question.id"), primary_key=True),
    db.Column("tag_id", ForeignKey("tag.id"), primary_key=True),
)


class Tag(db.Model):
    """A topic label (personnel, mandate, humanitarian, ...)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


class Question(db.Model):
    """An authored question; `id` is its stable kebab-case id from content/."""

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(30))
    essay_id: Mapped[int] = mapped_column(ForeignKey("essay.id"), index=True)
    prompt: Mapped[str] = mapped_column(Text)
    # Type-specific answer data (options with ids, blanks, pairs, accepted answers);
    # the shape is documented in quizapp.content.schema.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    explanation: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    difficulty: Mapped[str] = mapped_column(String(10))
    bloom: Mapped[str] = mapped_column(String(12))
    position: Mapped[int] = mapped_column(default=0)
    retired: Mapped[bool] = mapped_column(default=False, index=True)
    # Hash of everything authored; a load writes the row only when it changes.
    content_hash: Mapped[str] = mapped_column(String(64))
    # When the authored content last changed: the Anki note's modification time.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    essay: Mapped[Essay] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=question_tag, order_by=Tag.name)
    sources: Mapped[list[QuestionSource]] = relationship(
        back_populates="question",
        order_by="QuestionSource.position",
        cascade="all, delete-orphan",
    )


class QuestionSource(db.Model):
    """A verbatim quote supporting a question's answer, and the passage holding it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("question.id"), index=True)
    passage_id: Mapped[int] = mapped_column(ForeignKey("passage.id"), index=True)
    position: Mapped[int]
    quote: Mapped[str] = mapped_column(Text)
    question: Mapped[Question] = relationship(back_populates="sources")
    passage: Mapped[Passage] = relationship()


class Quiz(db.Model):
    """A quiz definition: which questions (a selection rule), how many, which mode."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(10))
    # {"essays": [...], "tags": [...], "types": [...], "questions": [...]}
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    count: Mapped[int | None]
    # How many live questions the rule selects, computed at load time so the
    # catalogue does not count per quiz on every request.
    size: Mapped[int] = mapped_column(default=0, server_default="0")
    position: Mapped[int] = mapped_column(default=0)
    retired: Mapped[bool] = mapped_column(default=False)
    content_hash: Mapped[str] = mapped_column(String(64))


class ContentState(db.Model):
    """A single row: the content version, bumped by every load that changes anything.

    Caches of rendered or built artefacts (decks) key on it.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The digest of the files (and loader code) the content was last loaded from
    # (quizapp.content.digest); None before the first load that recorded one.
    content_digest: Mapped[str | None] = mapped_column(String(64))


class Learner(db.Model):
    """An anonymous learner, known by the random id in their signed session cookie.

    Accounts can later attach here (a nullable user id) without touching attempts.
    """

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AttemptFacts:
    """What an attempt's columns say, for the ORM model and the pages' plain rows."""

    finished_at: Any
    layout: Any

    @property
    def finished(self) -> bool:
        """Whether the attempt is closed to further answers."""
        return self.finished_at is not None

    @property
    def question_ids(self) -> list[str]:
        """The drawn questions in the order the learner sees them."""
        return [slot["question"] for slot in self.layout]


class Attempt(AttemptFacts, db.Model):
    """One sitting of a quiz; its draw and option order are fixed when it starts."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_token)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learner.id"), index=True)
    quiz_id: Mapped[int | None] = mapped_column(ForeignKey("quiz.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(10))
    # [{"question": id, "order": [option ids or right-hand ids in display order]}, ...]
    layout: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    score: Mapped[float | None]
    quiz: Mapped[Quiz | None] = relationship()
    responses: Mapped[list[Response]] = relationship(
        back_populates="attempt", order_by="Response.position"
    )


class Response(db.Model):
    """A learner's answer to one question of an attempt: one row per question."""

    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("attempt.id"))
    question_id: Mapped[str] = mapped_column(ForeignKey("question.id"))
    position: Mapped[int]
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[float]
    # Bumped on every change, so a stale page (older version) cannot overwrite it.
    version: Mapped[int] = mapped_column(default=1)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempt: Mapped[Attempt] = relationship(back_populates="responses")
    question: Mapped[Question] = relationship()


class StudySettings(db.Model):
    """A learner's study-mode settings: daily limits, retention, their study day."""

    learner_id: Mapped[str] = mapped_column(ForeignKey("learner.id"), primary_key=True)
    new_per_day: Mapped[int] = mapped_column(default=20)
    max_reviews_per_day: Mapped[int] = mapped_column(default=200)
    desired_retention: Mapped[float] = mapped_column(default=0.9)
    # An IANA zone name (Europe/Berlin); the study day runs from day_starts_at_hour
    # there to the same hour the next day, as Anki's does.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    day_starts_at_hour: Mapped[int] = mapped_column(default=4)


class StudyCard(db.Model):
    """One learner's FSRS memory state for one question, created at its first review.

    `reps` counts the reviews: a rating form carries the count it was shown, so a
    second post of the same form (double click, second tab) changes nothing.
    """

    __table_args__ = (
        UniqueConstraint("learner_id", "question_id"),
        # "What is due for this learner", most overdue first: one index range.
        db.Index("ix_study_card_learner_id_due", "learner_id", "due"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learner.id"))
    question_id: Mapped[str] = mapped_column(ForeignKey("question.id"), index=True)
    # fsrs.State: 1 learning, 2 review, 3 relearning.
    state: Mapped[int]
    step: Mapped[int | None]
    stability: Mapped[float | None]
    difficulty: Mapped[float | None]
    due: Mapped[datetime]
    last_review: Mapped[datetime | None]
    reps: Mapped[int] = mapped_column(default=0)
    lapses: Mapped[int] = mapped_column(default=0)


class ReviewLog(db.Model):
    """One rating of a card: when, how, from where, and the card's state before it.

    `before` holds every column of the card as it was (None: the review created
    it), so undo restores it exactly; the columns after it are what Anki's revlog
    needs (interval, difficulty, type) and what the progress page counts.
    """

    __table_args__ = (
        db.Index("ix_review_log_learner_id_reviewed_at", "learner_id", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("study_card.id"), index=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learner.id"))
    reviewed_at: Mapped[datetime]
    rating: Mapped[int]  # fsrs.Rating: 1 again, 2 hard, 3 good, 4 easy
    source: Mapped[str] = mapped_column(String(10))  # study, practice, exam, anki
    state_before: Mapped[int | None]  # None: a new card
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    state_after: Mapped[int]
    stability_after: Mapped[float]
    difficulty_after: Mapped[float]
    # Seconds from this review to the card's next due time (Anki's interval).
    interval_seconds: Mapped[int]
    # How long the learner took, when known (Anki's revlog time).
    duration_ms: Mapped[int | None]


class TransferCode(db.Model):
    """A one-time code attaching another browser to a learner (quizapp.study.transfer).

    Only the code's SHA-256 is stored; it expires 15 minutes after issue and is
    used at most once (`used_at` is set by the one redemption that succeeds).
    """

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learner.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
