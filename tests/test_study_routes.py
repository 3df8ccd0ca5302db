"""Study mode through the test client: the queue page, answer, rate, undo, settings."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from quizapp.extensions import db
from quizapp.models import Question, ReviewLog, StudyCard, StudySettings
from tests.conftest import count_rows
from tests.test_quiz import answer, payload, start


def shown(html: str) -> dict[str, str]:
    """The hidden fields naming the card a study page shows."""
    fields = {}
    for name in ("question", "seen", "scope", "log"):
        match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html)
        if match:
            fields[name] = match.group(1)
    return fields


def question(app: Flask, question_id: str) -> Question:
    with app.app_context():
        row = db.session.get(Question, question_id)
        db.session.expunge(row)
        return row


def answer_card(
    client: FlaskClient, app: Flask, correct: bool, scope: str = ""
) -> tuple[dict[str, str], str]:
    page = client.get("/study" + (f"?scope={scope}" if scope else ""))
    assert page.status_code == 200
    card = shown(page.get_data(as_text=True))
    form = {**card, **payload(question(app, card["question"]), correct)}
    reply = client.post("/study/answer", data=form)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return card, reply.get_data(as_text=True)


def rate(client: FlaskClient, card: dict[str, str], rating: int, **extra: Any):
    return client.post("/study/rate", data={**card, "rating": str(rating), **extra})


def logs(app: Flask) -> list[tuple[str, int, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(StudyCard.question_id, ReviewLog.rating, ReviewLog.source)
            .join(StudyCard, StudyCard.id == ReviewLog.card_id)
            .order_by(ReviewLog.id)
        )
        return [tuple(row) for row in rows]


@pytest.fixture
def app(loaded_app: Flask) -> Flask:
    return loaded_app


def test_study_page_shows_the_first_new_card_and_counts(client: FlaskClient) -> None:
    page = client.get("/study")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert shown(html)["question"] == "fx-single" and shown(html)["seen"] == "0"
    assert re.search(r'id="count-due">0<', html) and re.search(
        r'id="count-new">8<', html
    )
    assert "Check answer" in html and "How well did you know it?" not in html
    assert "Correct answer" not in html  # no key before answering


def test_a_wrong_answer_suggests_again_and_shows_intervals(
    client: FlaskClient, app: Flask
) -> None:
    _card, html = answer_card(client, app, correct=False)
    assert "Incorrect" in html and "Why" in html and "Source" in html
    buttons = re.findall(
        r'<button type="submit" name="rating" value="(\d)".*?class="rating( suggested)?'
        r'.*?rating-label">(\w+)</span>\s*<span class="rating-interval">([^<]+)</span>',
        html,
        re.S,
    )
    assert [(v, s.strip(), label, i) for v, s, label, i in buttons] == [
        ("1", "suggested", "Again", "1 min"),
        ("2", "", "Hard", "6 min"),
        ("3", "", "Good", "10 min"),
        ("4", "", "Easy", "8 d"),
    ]
    assert count_rows(app, ReviewLog) == 0  # answering stores nothing


def test_a_right_answer_suggests_good(client: FlaskClient, app: Flask) -> None:
    _card, html = answer_card(client, app, correct=True)
    assert re.search(r'value="3"[^>]*class="rating suggested"[^>]*autofocus', html)


def test_rating_stores_one_review_and_moves_on(client: FlaskClient, app: Flask) -> None:
    card, _html = answer_card(client, app, correct=True)
    reply = rate(client, card, 3)
    assert reply.status_code == 303 and reply.headers["Location"].endswith("/study")
    assert logs(app) == [("fx-single", 3, "study")]
    html = client.get("/study").get_data(as_text=True)
    assert shown(html)["question"] == "fx-multiple"
    assert re.search(r'id="count-done">1<', html) and re.search(
        r'id="count-new">7<', html
    )


def test_a_rating_posted_twice_counts_once(client: FlaskClient, app: Flask) -> None:
    card, _html = answer_card(client, app, correct=True)
    first, second = rate(client, card, 3), rate(client, card, 1)
    assert first.status_code == second.status_code == 303
    assert logs(app) == [("fx-single", 3, "study")]


def test_a_rating_for_another_card_is_refused(client: FlaskClient, app: Flask) -> None:
    card, _html = answer_card(client, app, correct=True)
    reply = rate(client, {**card, "question": "fx-matching"}, 3)
    assert reply.status_code == 409
    assert "not the one due now" in reply.get_data(as_text=True)
    forged = rate(client, {**card, "question": "no-such-question"}, 3)
    assert forged.status_code == 409
    assert count_rows(app, ReviewLog) == 0 and count_rows(app, StudyCard) == 0


@pytest.mark.parametrize("rating", ["0", "5", "good", "", "3.5"])
def test_an_unknown_rating_is_refused(
    client: FlaskClient, app: Flask, rating: str
) -> None:
    card, _html = answer_card(client, app, correct=True)
    reply = client.post("/study/rate", data={**card, "rating": rating})
    assert reply.status_code == 400
    assert "Choose Again, Hard, Good or Easy" in reply.get_data(as_text=True)
    assert count_rows(app, ReviewLog) == 0


@pytest.mark.parametrize(
    "changes", [{"seen": "-1"}, {"seen": "x"}, {"question": "Bad Id"}, {"scope": "x:y"}]
)
def test_tampered_card_fields_are_refused(
    client: FlaskClient, app: Flask, changes: dict[str, str]
) -> None:
    card, _html = answer_card(client, app, correct=True)
    reply = rate(client, {**card, **changes}, 3)
    assert reply.status_code == 400
    assert count_rows(app, ReviewLog) == 0


def test_another_learners_card_is_untouched(app: Flask) -> None:
    alice, bob = app.test_client(), app.test_client()
    card, _html = answer_card(alice, app, correct=True)
    assert rate(alice, card, 3).status_code == 303
    bob.get("/study")
    # Bob replays Alice's rating form: for him it names a card he was not shown.
    again = {**card, "seen": "1"}
    assert rate(bob, again, 1).status_code in (303, 409)
    assert logs(app) == [("fx-single", 3, "study")]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StudyCard)) == 1


def test_posts_without_a_study_session_are_refused(client: FlaskClient) -> None:
    reply = client.post("/study/rate", data={"question": "fx-single", "seen": "0"})
    assert reply.status_code == 400


def test_json_posts_are_refused(client: FlaskClient) -> None:
    client.get("/study")
    reply = client.post("/study/rate", json={"rating": 3})
    assert reply.status_code == 415


def test_undo_takes_back_the_last_rating(client: FlaskClient, app: Flask) -> None:
    card, _html = answer_card(client, app, correct=True)
    rate(client, card, 3)
    html = client.get("/study").get_data(as_text=True)
    log = re.search(r'name="log" type="hidden" value="(\d+)"', html).group(1)
    reply = client.post("/study/undo", data={"log": log, "scope": ""})
    assert reply.status_code == 303
    assert count_rows(app, ReviewLog) == 0 and count_rows(app, StudyCard) == 0
    again = client.post("/study/undo", data={"log": log, "scope": ""})
    assert again.status_code == 303  # a second click: nothing left to undo
    html = client.get("/study").get_data(as_text=True)
    assert shown(html)["question"] == "fx-single" and "Undo last rating" not in html


def test_a_day_of_study_ends_with_all_done(client: FlaskClient, app: Flask) -> None:
    for _ in range(8):
        card, _html = answer_card(client, app, correct=True)
        assert rate(client, card, 4).status_code == 303  # Easy: back in days
    html = client.get("/study").get_data(as_text=True)
    assert "All done for today" in html
    assert re.search(
        r"The next card is due \w{3} \d\d \w{3} \d{4}, \d\d:\d\d \(UTC\)", html
    )
    assert re.search(r'id="count-done">8<', html)


def test_scopes_pick_the_questions(client: FlaskClient, app: Flask) -> None:
    html = client.get("/study?scope=tag:training").get_data(as_text=True)
    assert shown(html)["question"] == "fx-true-false"
    assert shown(html)["scope"] == "tag:training"
    card, _html = answer_card(client, app, True, scope="tag:training")
    reply = rate(client, card, 4)
    assert reply.headers["Location"].endswith("/study?scope=tag:training")
    html = client.get("/study?scope=tag:training").get_data(as_text=True)
    assert "All done for today" in html
    assert client.get("/study?scope=bogus").status_code == 400


def test_an_attempts_missed_questions_can_be_studied(
    client: FlaskClient, app: Flask
) -> None:
    attempt = start(client)
    for number in range(1, 9):
        answer(client, app, attempt, number, correct=number != 2)
    client.post(f"/attempts/{attempt}/finish")
    html = client.get(f"/study?scope=attempt:{attempt}").get_data(as_text=True)
    assert "the questions you missed in an attempt" in html
    # The practice answers were reviews already (quizzes feed the scheduler): the
    # missed question, rated Again, is in its first learning step, due in a minute.
    assert re.search(r'id="count-done">8<', html)
    assert re.search(r'id="count-new">0<', html)
    assert "Nothing due right now" in html and "in 1 min" in html
    assert client.get("/study?scope=attempt:someone-elses").status_code == 404


def test_settings_are_saved_and_validated(client: FlaskClient, app: Flask) -> None:
    page = client.get("/study/settings")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    good = {
        "new_per_day": "5",
        "max_reviews_per_day": "50",
        "desired_retention": "0.85",
        "time_zone": "Europe/Berlin",
        "day_starts_at_hour": "3",
    }
    reply = client.post("/study/settings", data=good)
    assert reply.status_code == 303
    with app.app_context():
        saved = db.session.scalars(select(StudySettings)).one()
        assert (saved.new_per_day, saved.desired_retention, saved.time_zone) == (
            5,
            0.85,
            "Europe/Berlin",
        )
    html = client.get("/study").get_data(as_text=True)
    assert re.search(r'id="count-new">5<', html)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("time_zone", "Mars/Olympus_Mons", "is not a time zone we know"),
        ("time_zone", "../../etc/passwd", "is not a time zone we know"),
        ("desired_retention", "0.99", "between 0.80 and 0.97"),
        ("desired_retention", "0.5", "between 0.80 and 0.97"),
        ("desired_retention", "lots", "Not a valid decimal value"),
        ("day_starts_at_hour", "24", "from 0 to 23"),
        ("new_per_day", "-1", "between 0 and 9999"),
    ],
)
def test_bad_settings_show_the_form_with_a_message(
    client: FlaskClient, app: Flask, field: str, value: str, message: str
) -> None:
    form = {
        "new_per_day": "20",
        "max_reviews_per_day": "200",
        "desired_retention": "0.9",
        "time_zone": "UTC",
        "day_starts_at_hour": "4",
        field: value,
    }
    reply = client.post("/study/settings", data=form)
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert "Your settings were not saved" in html and message in html
    assert count_rows(app, StudySettings) == 0


def test_first_rating_takes_the_browsers_time_zone(
    client: FlaskClient, app: Flask
) -> None:
    card, _html = answer_card(client, app, correct=True)
    rate(client, card, 3, zone="America/Chicago")
    with app.app_context():
        assert db.session.scalars(select(StudySettings.time_zone)).one() == (
            "America/Chicago"
        )


def test_a_bogus_browser_zone_is_ignored(client: FlaskClient, app: Flask) -> None:
    card, _html = answer_card(client, app, correct=True)
    assert rate(client, card, 3, zone="Nowhere/Land").status_code == 303
    assert count_rows(app, StudySettings) == 0 and count_rows(app, ReviewLog) == 1
