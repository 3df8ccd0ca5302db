"""Quizzes feed the scheduler: a practice answer and an exam's answers at finish."""

from __future__ import annotations

from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import ReviewLog, StudyCard
from tests.test_quiz import answer, attempt_row, question_at, start


def logs(app) -> list[tuple[str, str, int]]:
    """(question id, source, rating) of every review log, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(StudyCard.question_id, ReviewLog.source, ReviewLog.rating)
            .join(StudyCard, StudyCard.id == ReviewLog.card_id)
            .order_by(ReviewLog.id)
        )
        return [tuple(row) for row in rows]


def test_a_practice_answer_is_a_review_with_its_suggested_rating(loaded_app):
    client = loaded_app.test_client()
    attempt_id = start(client, "fx-practice")
    right = question_at(loaded_app, attempt_id, 1).id
    wrong = question_at(loaded_app, attempt_id, 2).id
    assert answer(client, loaded_app, attempt_id, 1, correct=True).status_code == 302
    assert answer(client, loaded_app, attempt_id, 2, correct=False).status_code == 302
    # Good (3) for full marks, Again (1) for none.
    assert logs(loaded_app) == [(right, "practice", 3), (wrong, "practice", 1)]
    # A replay or a second post of the same question stores no second review.
    answer(client, loaded_app, attempt_id, 1, correct=True)
    answer(client, loaded_app, attempt_id, 1, correct=False)
    assert len(logs(loaded_app)) == 2


def test_exam_answers_become_reviews_at_finish_only(loaded_app):
    client = loaded_app.test_client()
    attempt_id = start(client, "fx-exam")
    total = len(attempt_row(loaded_app, attempt_id).layout)
    for number in range(1, total + 1):
        assert answer(client, loaded_app, attempt_id, number).status_code == 302
    assert logs(loaded_app) == []
    assert client.post(f"/attempts/{attempt_id}/finish").status_code == 302
    found = logs(loaded_app)
    assert len(found) == total
    assert {source for _, source, _ in found} == {"exam"}
    client.post(f"/attempts/{attempt_id}/finish")  # finishing twice adds nothing
    assert len(logs(loaded_app)) == total


def test_the_catalogue_counts_the_cards_due_now(loaded_app):
    client = loaded_app.test_client()
    assert "<strong>0 cards</strong> due now" in client.get("/").get_data(as_text=True)
    attempt_id = start(client, "fx-practice")
    answer(client, loaded_app, attempt_id, 1, correct=False)  # Again: due in minutes
    with loaded_app.app_context():
        card = db.session.scalar(select(StudyCard))
        card.due = card.due.replace(year=2000)  # long overdue
        db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "<strong>1 card</strong> due now" in page


def test_the_essay_reader_shows_each_studied_paragraphs_mastery(loaded_app):
    client = loaded_app.test_client()
    attempt_id = start(client, "fx-practice")
    for number in range(1, len(attempt_row(loaded_app, attempt_id).layout) + 1):
        answer(client, loaded_app, attempt_id, number, correct=True)
    page = client.get("/essays/cooperation-peacekeeping-missions").get_data(
        as_text=True
    )
    assert "Your mastery: " in page
    assert '<meter min="0" max="1"' in page
    fresh = loaded_app.test_client().get("/essays/cooperation-peacekeeping-missions")
    assert "Your mastery" not in fresh.get_data(as_text=True)
