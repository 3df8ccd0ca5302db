"""The progress report: reviews per day, streaks, forecast, retention, mastery."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from fsrs import Rating

from quizapp.extensions import db
from quizapp.models import Learner
from quizapp.study import progress, queue
from quizapp.study.queue import DEFAULTS
from quizapp.study.scheduler import rate

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def app(loaded_app: Flask) -> Flask:
    return loaded_app


def review(learner: str, question: str, rating: Rating, now: datetime) -> None:
    found = queue.card_of(learner, question)
    card_id, card = found if found else (None, None)
    result = rate(card, rating, now, 0.9)
    assert queue.store_review(learner, question, card_id, result, "study")


@pytest.mark.parametrize(
    ("counts", "current", "longest"),
    [
        ([1, 1, 0, 1, 1, 1], 3, 3),
        ([1, 1, 1, 0, 2, 0], 1, 3),  # today (last) not studied yet: still open
        ([1, 0, 0], 0, 1),
        ([], 0, 0),
    ],
)
def test_streaks(counts: list[int], current: int, longest: int) -> None:
    assert progress.streaks(counts) == (current, longest)


def _history(app: Flask) -> str:
    """Three days of reviews ending today, one lapse among the learned cards."""
    with app.app_context():
        db.session.add(Learner(id="learner-p"))
        db.session.flush()
        start = NOW - timedelta(days=20)
        for question in ("fx-single", "fx-multiple"):
            review("learner-p", question, Rating.Easy, start)
        review("learner-p", "fx-single", Rating.Good, NOW - timedelta(days=2))
        review("learner-p", "fx-multiple", Rating.Again, NOW - timedelta(days=1))
        review("learner-p", "fx-cloze", Rating.Good, NOW)
        db.session.commit()
    return "learner-p"


def test_report_counts_days_streaks_and_retention(app: Flask) -> None:
    learner = _history(app)
    with app.app_context():
        report = progress.report(learner, NOW, DEFAULTS)
    by_day = {d.day.isoformat(): d.count for d in report.days if d.count}
    assert by_day == {
        "2026-05-21": 2,
        "2026-06-08": 1,
        "2026-06-09": 1,
        "2026-06-10": 1,
    }
    assert report.days[-1].day.isoformat() == "2026-06-10"
    assert report.days[0].day.weekday() == 0  # the heatmap starts on a Monday
    assert (report.current_streak, report.longest_streak) == (3, 3)
    assert report.total_reviews == 5 and report.active_days == 4
    # Reviews of learned cards in the last 30 days: Good, then Again.
    assert (report.retention, report.retention_reviews) == (0.5, 2)
    # Today: the lapsed card (overdue since yesterday) and the cloze card (in
    # 10 minutes); the other card is due beyond the 30 days.
    assert report.forecast[0].count == 2
    assert sum(d.count for d in report.forecast) == 2


def test_mastery_per_essay_and_paragraph(app: Flask) -> None:
    learner = _history(app)
    with app.app_context():
        report = progress.report(learner, NOW, DEFAULTS)
        paragraphs = progress.paragraph_mastery(learner, report.essays[0].key, NOW)
    (essay,) = report.essays
    assert (essay.seen, essay.total, essay.unseen) == (3, 8, 5)
    assert 0 < essay.mastery < 1
    assert sum(total for _m, _s, total in paragraphs.values()) >= 6
    unseen = [a for a, (m, seen, _t) in paragraphs.items() if seen == 0]
    assert all(paragraphs[a][0] is None for a in unseen)
    weakest = [w.question_id for w in report.weakest]
    assert weakest[0] == "fx-multiple" and set(weakest) == {
        "fx-single",
        "fx-multiple",
        "fx-cloze",
    }


def test_nobody_has_no_mastery_and_nothing_due(app: Flask) -> None:
    with app.app_context():
        marks = progress.paragraph_mastery(None, "cooperation-peacekeeping-missions")
        assert marks and all(seen == 0 for _m, seen, _t in marks.values())
        assert progress.due_count(None, NOW) == 0


def test_due_count_counts_what_is_due(app: Flask) -> None:
    learner = _history(app)
    with app.app_context():
        assert progress.due_count(learner, NOW) == 1  # the lapsed card
        assert progress.due_count(learner, NOW + timedelta(minutes=11)) == 2


def test_progress_page_draws_pictures_with_numbers_beside(app: Flask) -> None:
    client = app.test_client()
    client.get("/study")
    html = client.get("/progress").get_data(as_text=True)
    assert 'class="heatmap"' in html and 'role="img"' in html
    assert "Reviews per day as a table" in html and "No reviews yet." in html
    assert "Nothing studied yet." in html
    assert client.get("/progress").headers["Cache-Control"] == "no-store"


def test_progress_page_offers_the_weakest_questions(app: Flask) -> None:
    client = app.test_client()
    for _ in range(2):
        page = client.get("/study").get_data(as_text=True)
        card = {
            k: re.search(rf'name="{k}" type="hidden" value="([^"]*)"', page).group(1)
            for k in ("question", "seen")
        }
        client.post("/study/rate", data={**card, "rating": "4"})
    html = client.get("/progress").get_data(as_text=True)
    link = re.search(r'href="(/study\?scope=questions[^"]+)">Study these 2<', html)
    assert link, html[-3000:]
    studied = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "2 picked questions" in studied
    # Picked questions come up once a study day: these were studied today.
    assert "All done for today" in studied
    assert re.search(r"<td>2</td>", html)  # today's two reviews, in the table
