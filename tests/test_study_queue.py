"""Study mode's domain with a frozen clock: FSRS due times, daily limits, undo, races.

Every call passes `now`; nothing sleeps. Times are chosen around real DST switches
(Europe/Berlin: 2026-03-29 and 2026-10-25) so that a wrong zone rule fails.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from fsrs import Card, Rating, Scheduler, State
from sqlalchemy import func, select, text

from quizapp.extensions import db
from quizapp.models import Learner, ReviewLog, StudyCard, StudySettings
from quizapp.study import queue
from quizapp.study.queue import Scope, parse_scope
from quizapp.study.scheduler import CardState, suggested_rating
from tests.conftest import close_app, load_content, make_app

ORDER = [
    "fx-single",
    "fx-multiple",
    "fx-true-false",
    "fx-cloze",
    "fx-short",
    "fx-matching",
]
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def add_learner(app: Flask, learner_id: str = "learner-a", **settings: object) -> str:
    with app.app_context():
        db.session.add(Learner(id=learner_id))
        if settings:
            db.session.add(StudySettings(learner_id=learner_id, **settings))
        db.session.commit()
    return learner_id


def snap(app: Flask, learner: str, now: datetime, scope: Scope | None = None):
    with app.app_context():
        settings = queue.settings_of(learner)
        return queue.snapshot(learner, scope or Scope(), now, settings)


def rate_next(
    app: Flask, learner: str, rating: Rating, now: datetime, scope: Scope | None = None
) -> str:
    """Rate whatever the queue shows at `now`; return its question id."""
    with app.app_context():
        settings = queue.settings_of(learner)
        head = queue.snapshot(learner, scope or Scope(), now, settings).head
        assert head is not None, f"nothing due at {now}"
        assert queue.rate_head(learner, head, rating, now, settings)
        db.session.commit()
        return head.question_id


def log_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ReviewLog))


def raw_cards(app: Flask) -> list[tuple[object, ...]]:
    """The card table exactly as the database holds it (SQLite text included)."""
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM study_card ORDER BY id"))
        return [tuple(row) for row in rows]


@pytest.fixture
def app(loaded_app: Flask) -> Flask:
    return loaded_app


def test_new_card_rated_good_is_due_exactly_when_fsrs_says(app: Flask) -> None:
    learner = add_learner(app)
    first = snap(app, learner, T0)
    assert first.head and first.head.question_id == "fx-single"
    assert (first.due, first.new, first.done_today) == (0, 8, 0)

    assert rate_next(app, learner, Rating.Good, T0) == "fx-single"

    expected, _ = Scheduler().review_card(Card(card_id=1), Rating.Good, T0)
    with app.app_context():
        card = db.session.scalars(select(StudyCard)).one()
        assert CardState.from_row(card).due == expected.due
        assert card.state == State.Learning and card.step == expected.step
    before = snap(app, learner, expected.due - timedelta(microseconds=1))
    assert before.head and before.head.question_id == "fx-multiple"
    assert before.due == 0 and before.next_due == expected.due
    at = snap(app, learner, expected.due)
    assert at.head and at.head.question_id == "fx-single"
    assert (at.due, at.new, at.done_today) == (1, 7, 1)


def test_due_reviews_come_before_new_and_most_overdue_first(app: Flask) -> None:
    learner = add_learner(app)
    for minute in range(3):
        rate_next(app, learner, Rating.Easy, T0 + timedelta(minutes=minute))
    later = T0 + timedelta(days=60)
    order = []
    for step in range(3):
        order.append(
            rate_next(app, learner, Rating.Easy, later + timedelta(seconds=step))
        )
    assert order == ORDER[:3]
    assert snap(app, learner, later + timedelta(seconds=5)).head.question_id == ORDER[3]


def _rate_new(app: Flask, learner: str, count: int, now: datetime) -> None:
    for index in range(count):
        rate_next(app, learner, Rating.Easy, now + timedelta(seconds=index))


def test_new_limit_holds_until_four_am_in_berlin(app: Flask) -> None:
    learner = add_learner(app, new_per_day=2, time_zone="Europe/Berlin")
    # 03:30 in Berlin: still the study day of 9 March.
    night = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)
    _rate_new(app, learner, 2, night)

    assert snap(app, learner, night + timedelta(minutes=5)).head is None
    just_before = snap(app, learner, datetime(2026, 3, 10, 2, 59, 59, tzinfo=UTC))
    assert (just_before.new, just_before.head) == (0, None)
    four_am = snap(app, learner, datetime(2026, 3, 10, 3, 0, tzinfo=UTC))
    assert four_am.new == 2 and four_am.head.question_id == ORDER[2]
    assert four_am.done_today == 0


def test_new_limit_follows_the_spring_dst_switch(app: Flask) -> None:
    # On 29 March 2026 Berlin moves to summer time: 4 am is 02:00 UTC, not 03:00.
    learner = add_learner(app, new_per_day=2, time_zone="Europe/Berlin")
    _rate_new(app, learner, 2, datetime(2026, 3, 29, 1, 30, tzinfo=UTC))

    assert snap(app, learner, datetime(2026, 3, 29, 1, 59, tzinfo=UTC)).new == 0
    new_day = snap(app, learner, datetime(2026, 3, 29, 2, 0, tzinfo=UTC))
    assert new_day.new == 2 and new_day.day.date.isoformat() == "2026-03-29"


def test_review_is_not_due_twice_on_the_long_autumn_day(app: Flask) -> None:
    # 24 October 2026 in Berlin lasts 25 hours (02:00 UTC to 03:00 UTC next day).
    learner = add_learner(app, time_zone="Europe/Berlin")
    reviewed = datetime(2026, 10, 24, 2, 10, tzinfo=UTC)
    with app.app_context():
        db.session.add(
            StudyCard(
                learner_id=learner,
                question_id="fx-single",
                state=int(State.Review),
                step=None,
                stability=1.0,
                difficulty=5.0,
                due=reviewed + timedelta(days=1),  # 02:10 UTC, still "24 October"
                last_review=reviewed,
                reps=3,
                lapses=0,
            )
        )
        db.session.commit()
    same_day = snap(app, learner, datetime(2026, 10, 25, 2, 30, tzinfo=UTC))
    assert same_day.due == 0 and same_day.head.question_id == "fx-multiple"
    next_day = snap(app, learner, datetime(2026, 10, 25, 3, 0, tzinfo=UTC))
    assert next_day.due == 1 and next_day.head.question_id == "fx-single"


def test_changing_time_zone_does_not_reset_the_day(app: Flask) -> None:
    learner = add_learner(app, new_per_day=2, time_zone="Europe/Berlin")
    evening = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # 21:00 in Berlin
    _rate_new(app, learner, 2, evening)
    for zone in ("America/New_York", "Asia/Tokyo", "Pacific/Auckland"):
        with app.app_context():
            db.session.get(StudySettings, learner).time_zone = zone
            db.session.commit()
        later = snap(app, learner, evening + timedelta(minutes=30))
        assert later.new == 0 and later.head is None, zone


def test_review_maximum_caps_reviews_but_not_learning_steps(app: Flask) -> None:
    learner = add_learner(app, max_reviews_per_day=1)
    _rate_new(app, learner, 2, T0)  # Easy: two review cards, due in days
    rate_next(app, learner, Rating.Good, T0 + timedelta(minutes=1))  # learning
    later = T0 + timedelta(days=30)
    first = snap(app, learner, later)
    assert (first.due_reviews, first.due_learning) == (1, 1)
    rate_next(app, learner, Rating.Good, later)  # the learning card (due first)
    rate_next(app, learner, Rating.Good, later + timedelta(seconds=1))  # one review
    capped = snap(app, learner, later + timedelta(seconds=2))
    assert capped.due_reviews == 0
    assert capped.head is None or capped.head.card is None  # only new ones left


def test_scopes_narrow_the_queue(app: Flask) -> None:
    learner = add_learner(app)
    tag = snap(app, learner, T0, parse_scope("tag:challenges"))
    assert tag.new == 2 and tag.head.question_id == "fx-multiple"
    picked = snap(app, learner, T0, parse_scope("questions:fx-short,fx-cloze"))
    assert picked.new == 2 and picked.head.question_id == "fx-cloze"
    essay = snap(
        app, learner, T0, parse_scope("essay:cooperation-peacekeeping-missions")
    )
    assert essay.new == 8
    assert snap(app, learner, T0, parse_scope("essay:no-such-essay")).new == 0


@pytest.mark.parametrize(
    "raw",
    ["essay:", "tag:Bad Tag", "questions:", "attempt:x y", "everything", "essay:a/b"],
)
def test_unknown_scopes_are_refused(raw: str) -> None:
    with pytest.raises(queue.ScopeError):
        parse_scope(raw)


def test_undo_restores_the_card_byte_for_byte(app: Flask) -> None:
    learner = add_learner(app)
    rate_next(app, learner, Rating.Good, T0)
    rate_next(app, learner, Rating.Good, T0 + timedelta(minutes=1))
    later = T0 + timedelta(minutes=20)
    before = raw_cards(app)
    logs = log_count(app)

    assert rate_next(app, learner, Rating.Again, later) == "fx-single"
    assert raw_cards(app) != before
    with app.app_context():
        assert queue.undo_last(learner)
        db.session.commit()

    assert raw_cards(app) == before
    assert log_count(app) == logs


def test_undoing_a_first_rating_removes_the_card(app: Flask) -> None:
    learner = add_learner(app)
    rate_next(app, learner, Rating.Hard, T0)
    with app.app_context():
        last = queue.snapshot(learner, Scope(), T0, queue.DEFAULTS).last_log_id
        assert queue.undo_last(learner, last)
        assert not queue.undo_last(learner, last)  # the same Undo again: nothing
        db.session.commit()
    assert raw_cards(app) == [] and log_count(app) == 0
    assert snap(app, learner, T0).head.question_id == "fx-single"


def test_quiz_reviews_are_not_undone_from_study(app: Flask) -> None:
    learner = add_learner(app)
    with app.app_context():
        assert queue.record_quiz_review(learner, "fx-cloze", 0.5, "practice", T0)
        db.session.commit()
        assert not queue.undo_last(learner)
        log = db.session.scalars(select(ReviewLog)).one()
        assert (log.rating, log.source, log.state_before) == (2, "practice", None)


def test_a_duplicate_rating_stores_one_log_row(app: Flask) -> None:
    learner = add_learner(app)
    for now in (T0, T0 + timedelta(minutes=30)):  # a new card, then a known one
        with app.app_context():
            settings = queue.settings_of(learner)
            head = queue.snapshot(learner, Scope(), now, settings).head
            assert queue.rate_head(learner, head, Rating.Good, now, settings)
            assert not queue.rate_head(learner, head, Rating.Good, now, settings)
            db.session.commit()
    assert log_count(app) == 2
    with app.app_context():
        assert db.session.scalars(select(StudyCard.reps)).one() == 2


def test_concurrent_duplicate_ratings_store_one_log_row(tmp_path: Path) -> None:
    app = make_app(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'race.sqlite'}",
        SQLALCHEMY_ENGINE_OPTIONS={},
    )
    try:
        load_content(app)
        learner = add_learner(app)
        with app.app_context():
            head = queue.snapshot(learner, Scope(), T0, queue.DEFAULTS).head
        barrier = threading.Barrier(4)
        stored: list[bool] = []

        def post() -> None:
            with app.app_context():
                barrier.wait()
                stored.append(
                    queue.rate_head(learner, head, Rating.Good, T0, queue.DEFAULTS)
                )
                db.session.commit()

        threads = [threading.Thread(target=post) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(stored) == [False, False, False, True]
        assert log_count(app) == 1
    finally:
        close_app(app)


@pytest.mark.parametrize(
    ("score", "rating"),
    [
        (0.0, Rating.Again),
        (0.01, Rating.Hard),
        (0.5, Rating.Hard),
        (0.99, Rating.Hard),
        (1.0, Rating.Good),
    ],
)
def test_suggested_rating_from_the_grade(score: float, rating: Rating) -> None:
    assert suggested_rating(score) == rating


def test_a_quiz_answer_becomes_a_review_with_the_suggested_rating(app: Flask) -> None:
    learner = add_learner(app)
    with app.app_context():
        assert queue.record_quiz_review(learner, "fx-single", 0.0, "exam", T0)
        assert queue.record_quiz_review(
            learner, "fx-single", 1.0, "practice", T0 + timedelta(minutes=5)
        )
        db.session.commit()
        logs = db.session.scalars(select(ReviewLog).order_by(ReviewLog.id)).all()
    assert [(log.rating, log.source) for log in logs] == [(1, "exam"), (3, "practice")]
    assert logs[1].before["reps"] == 1 and logs[1].state_before == int(State.Learning)


def test_picked_questions_are_studied_today_whether_due_or_not(app: Flask) -> None:
    learner = add_learner(app, new_per_day=0)
    picked = parse_scope("questions:fx-cloze,fx-single")
    with app.app_context():
        for question in ("fx-single", "fx-cloze"):
            assert queue.record_quiz_review(learner, question, 1.0, "exam", T0)
            assert queue.record_quiz_review(
                learner, question, 1.0, "exam", T0 + timedelta(minutes=10)
            )
        db.session.commit()
    tomorrow = T0 + timedelta(days=1)
    assert snap(app, learner, tomorrow).due == 0  # not due yet by FSRS
    first = snap(app, learner, tomorrow, picked)
    assert first.due == 2 and first.head.question_id == "fx-single"
    rate_next(app, learner, Rating.Good, tomorrow, picked)
    rate_next(app, learner, Rating.Good, tomorrow, picked)
    assert snap(app, learner, tomorrow + timedelta(seconds=1), picked).head is None
