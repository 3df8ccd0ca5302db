"""Transfer codes across two test clients: issue, join, once only, expiry, guessing.

Browser A studies and asks for a code; browser B types it and from then on is
the same learner (B's progress page is A's). A code works once and for 15
minutes; a wrong one attaches nothing; guessing is rate-limited. If B had
studied on its own, every one of its reviews ends up in the learner's history
exactly once, and its attempts move with it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from fsrs import Rating
from sqlalchemy import func, select

from quizapp.database import write_lock
from quizapp.extensions import db
from quizapp.models import (
    Attempt,
    Learner,
    ReviewLog,
    StudyCard,
    StudySettings,
    TransferCode,
)
from quizapp.study import device_routes, history, queue, transfer
from quizapp.study.queue import Settings
from quizapp.study.scheduler import rate
from quizapp.study.transfer import Refusal
from tests.conftest import (
    TEST_DATABASE_URL,
    close_app,
    count_rows,
    load_content,
    make_app,
)
from tests.test_quiz import start

# The tests' clock: reviews in the days before it, codes issued at it.
NOW = datetime(2026, 6, 10, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def app(loaded_app: Flask) -> Flask:
    return loaded_app


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[datetime]]:
    """Every page's clock at NOW (move it by replacing clock[0])."""
    clock = [NOW]
    monkeypatch.setattr(device_routes, "clock", lambda: clock[0])
    monkeypatch.setattr("quizapp.study.routes.utcnow", lambda: clock[0])
    yield clock


def review(
    learner: str,
    question: str,
    rating: Rating,
    moment: datetime,
    source: str = "study",
    duration_ms: int | None = None,
) -> None:
    """Store one review the way the study page does (card from its last state)."""
    found = queue.card_of(learner, question)
    card_id, card = found if found else (None, None)
    result = rate(card, rating, moment, queue.settings_of(learner).desired_retention)
    assert queue.store_review(learner, question, card_id, result, source, duration_ms)


def studied(app: Flask, learner: str, plan: list[tuple[str, Rating, int]]) -> None:
    """A learner row and its reviews: (question, rating, days before NOW)."""
    with app.app_context():
        if db.session.get(Learner, learner) is None:
            db.session.add(Learner(id=learner))
            db.session.flush()
        for index, (question, rating, days) in enumerate(plan):
            moment = NOW - timedelta(days=days, minutes=index)
            source = ("study", "practice", "exam")[index % 3]
            review(learner, question, rating, moment, source, 1000 + index)
        db.session.commit()


HISTORY_A = [
    ("fx-single", Rating.Good, 30),
    ("fx-multiple", Rating.Easy, 30),
    ("fx-single", Rating.Good, 20),
    ("fx-cloze", Rating.Again, 3),
    ("fx-cloze", Rating.Good, 2),
    ("fx-single", Rating.Hard, 1),
]


def as_learner(client: FlaskClient, learner: str) -> None:
    """Make `client` the browser of `learner`."""
    with client.session_transaction() as session:
        session["learner"] = learner
        session.permanent = True


def learner_of(client: FlaskClient) -> str | None:
    with client.session_transaction() as session:
        return session.get("learner")


def main_of(html: str) -> str:
    """The page's main content (what the learner's figures are in)."""
    match = re.search(r"<main\b.*?</main>", html, re.S)
    assert match, html[:500]
    return match.group(0)


def progress_main(client: FlaskClient) -> str:
    reply = client.get("/progress")
    assert reply.status_code == 200
    return main_of(reply.get_data(as_text=True))


def issue(client: FlaskClient) -> str:
    """Ask for a code on `client`'s page; the code as shown."""
    reply = client.post("/device/code")
    assert reply.status_code == 200, reply.get_data(as_text=True)
    match = re.search(r'id="transfer-code">([^<]+)<', reply.get_data(as_text=True))
    assert match
    return match.group(1)


def join(client: FlaskClient, code: str):
    return client.post("/device/join", data={"code": code})


def alert(reply) -> str:
    match = re.search(r'role="alert">(.*?)</div>', reply.get_data(as_text=True), re.S)
    assert match, reply.get_data(as_text=True)[:2000]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def keys(app: Flask, learner: str) -> list[tuple[str, int, int, str]]:
    """The learner's reviews as (question, millisecond, rating, source), in order."""
    with app.app_context():
        return [
            (e.question_id, e.key, e.rating, e.source)
            for e in history.learner_events(learner)
        ]


def codes(app: Flask) -> list[TransferCode]:
    with app.app_context():
        rows = list(db.session.scalars(select(TransferCode)))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_codes_are_twelve_crockford_characters_and_forgive_typing() -> None:
    raw = "0123456789AB"
    assert transfer.format_code(raw) == "0123-4567-89AB"
    for typed in ("0123-4567-89AB", "0123 4567 89ab", "012345678-9ab", "-0123456789AB"):
        assert transfer.normalise(typed) == "0123456789AB"
    assert transfer.normalise("o1l3-4567-89ab") == "0113456789AB"
    assert transfer.normalise("I123--4567--89AB ") == "1123456789AB"
    for bad in ("", "0123-4567-89A", "0123-4567-89ABC", "U123-4567-89AB", "0123+4567"):
        assert transfer.normalise(bad) is None
    assert set(transfer.ALPHABET) == set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert len(transfer.ALPHABET) == 32


def test_a_code_attaches_the_second_browser_to_the_same_learner(app: Flask) -> None:
    studied(app, "learner-a", HISTORY_A)
    browser_a, browser_b = app.test_client(), app.test_client()
    as_learner(browser_a, "learner-a")
    page = browser_a.get("/device")
    assert page.status_code == 200 and "Get a transfer code" in page.get_data(True)
    code = issue(browser_a)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){2}", code)
    (stored,) = codes(app)
    assert stored.learner_id == "learner-a" and stored.used_at is None
    assert code.replace("-", "") not in stored.code_hash  # only the hash is kept
    expected = progress_main(browser_a)
    assert 'id="total-reviews">6<' in expected

    form = browser_b.get(f"/device/join?code={code}")
    assert form.status_code == 200
    assert f'value="{code}"' in form.get_data(as_text=True)
    assert codes(app)[0].used_at is None  # opening the link changes nothing
    reply = join(browser_b, code.lower().replace("-", " "))
    assert reply.status_code == 303
    assert reply.headers["Location"].endswith("/device?joined=1")
    assert learner_of(browser_b) == "learner-a"
    assert "now continues your study history" in browser_b.get(
        reply.headers["Location"]
    ).get_data(as_text=True)
    assert progress_main(browser_b) == expected
    assert codes(app)[0].used_at is not None


def test_a_code_works_once(app: Flask) -> None:
    studied(app, "learner-a", HISTORY_A)
    browser_a, browser_b, browser_c = (app.test_client() for _ in range(3))
    as_learner(browser_a, "learner-a")
    as_learner(browser_c, "learner-c")
    code = issue(browser_a)
    assert join(browser_b, code).status_code == 303
    again = join(browser_c, code)
    assert again.status_code == 410
    assert "used already" in alert(again)
    assert learner_of(browser_c) == "learner-c"  # nothing attached
    assert keys(app, "learner-c") == []


def test_two_redemptions_of_one_code_attach_one_browser(app: Flask) -> None:
    studied(app, "learner-a", HISTORY_A[:1])
    with app.app_context():
        issued = transfer.issue_code("learner-a", NOW)
        db.session.commit()
        first = transfer.redeem(issued.code, NOW)
        second = transfer.redeem(issued.code, NOW)
        db.session.commit()
    assert (first, second) == ("learner-a", Refusal.USED)


@pytest.mark.skipif(
    not (TEST_DATABASE_URL or "").startswith("postgresql"),
    reason="two connections racing for one row need PostgreSQL",
)
def test_concurrent_redemptions_on_postgresql_attach_one_browser(app: Flask) -> None:
    studied(app, "learner-a", HISTORY_A[:1])
    with app.app_context():
        code = transfer.issue_code("learner-a", NOW).code
        db.session.commit()
    barrier = threading.Barrier(2)
    results: list[str | Refusal] = []

    def redeem_once() -> None:
        with app.app_context():
            write_lock()
            barrier.wait()
            found = transfer.redeem(code, NOW)
            # Hold the row lock a moment: the other UPDATE waits on it, then finds
            # the code used. (The outcome is the same if the two do not overlap.)
            time.sleep(0.2)
            db.session.commit()
            results.append(found)
            db.session.remove()

    threads = [threading.Thread(target=redeem_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    assert results.count("learner-a") == 1 and results.count(Refusal.USED) == 1


def test_an_expired_code_is_refused_and_attaches_nothing(
    app: Flask, frozen: list[datetime]
) -> None:
    studied(app, "learner-a", HISTORY_A)
    browser_a, browser_b = app.test_client(), app.test_client()
    as_learner(browser_a, "learner-a")
    as_learner(browser_b, "learner-b")
    code = issue(browser_a)
    page = browser_a.post("/device/code")  # a second code replaces the first
    second = re.search(r'id="transfer-code">([^<]+)<', page.get_data(as_text=True))
    assert second and len(codes(app)) == 1
    assert join(browser_b, code).status_code == 404  # the replaced one is gone
    frozen[0] = NOW + timedelta(minutes=15)
    reply = join(browser_b, second.group(1))
    assert reply.status_code == 410
    assert "expired" in alert(reply) and "15 minutes" in alert(reply)
    assert learner_of(browser_b) == "learner-b"
    (stored,) = codes(app)
    assert stored.used_at is None


def test_a_code_shows_its_expiry_in_the_learners_zone(app: Flask) -> None:
    studied(app, "learner-a", [])
    with app.app_context():
        queue.save_settings("learner-a", Settings(time_zone="Europe/Berlin"))
        db.session.commit()
    browser = app.test_client()
    as_learner(browser, "learner-a")
    html = browser.post("/device/code").get_data(as_text=True)
    # NOW is 12:00 UTC, 14:00 in Berlin in June: the code works until 14:15.
    assert 'id="code-expires">14:15 (Europe/Berlin)<' in html
    assert "/device/join?code=" in html


@pytest.mark.parametrize(
    ("typed", "status", "message"),
    [
        ("7KQ2-M9XD-4HCT", 404, "does not match any transfer code"),
        ("7KQ2-M9XD", 400, "12 letters and digits"),
        ("UUUU-UUUU-UUUU", 400, "12 letters and digits"),
        ("", 400, "Type the code shown on your other device"),
        ("x" * 41, 400, "12 letters and digits"),
    ],
)
def test_a_wrong_code_is_rejected(
    app: Flask, typed: str, status: int, message: str
) -> None:
    studied(app, "learner-b", HISTORY_A[:2])
    browser = app.test_client()
    as_learner(browser, "learner-b")
    before = keys(app, "learner-b")
    reply = join(browser, typed)
    assert reply.status_code == status
    assert message in alert(reply)
    assert learner_of(browser) == "learner-b"
    assert keys(app, "learner-b") == before


def test_issuing_and_joining_are_rate_limited() -> None:
    app = make_app(RATE_LIMIT_TRANSFER="3 per minute")
    try:
        load_content(app)
        browser = app.test_client()
        joins = [join(browser, "7KQ2-M9XD-4HCT").status_code for _ in range(4)]
        assert joins == [404, 404, 404, 429]
        issues = [browser.post("/device/code").status_code for _ in range(4)]
        assert issues == [200, 200, 200, 429]  # its own count, not the joins'
        assert join(browser, "7KQ2-M9XD-4HCT").headers["Retry-After"]
    finally:
        close_app(app)


HISTORY_B = [
    ("fx-single", Rating.Again, 25),  # between A's reviews of it: full replay
    ("fx-true-false", Rating.Good, 4),
    ("fx-numeric", Rating.Good, 1),
    ("fx-single", Rating.Good, 0),  # after A's last one
]


def test_joining_merges_the_browsers_own_history_keeping_each_review_once(
    app: Flask,
) -> None:
    studied(app, "learner-a", HISTORY_A)
    studied(app, "learner-b", HISTORY_B)
    with app.app_context():
        # B also holds one of A's reviews (say, from A's progress file).
        a_first = history.learner_events("learner-a")[0]
        history.merge_events("learner-b", [a_first], 0.9)
        queue.save_settings("learner-b", Settings(time_zone="Europe/Paris"))
        db.session.commit()
    browser_a, browser_b = app.test_client(), app.test_client()
    as_learner(browser_a, "learner-a")
    as_learner(browser_b, "learner-b")
    attempt_id = start(browser_b, "fx-practice")
    expected = sorted(set(keys(app, "learner-a")) | set(keys(app, "learner-b")))
    assert len(expected) == len(HISTORY_A) + len(HISTORY_B)

    reply = join(browser_b, issue(browser_a))
    assert reply.status_code == 303
    assert "added=4" in reply.headers["Location"]
    assert "attempts=1" in reply.headers["Location"]
    assert sorted(keys(app, "learner-a")) == expected
    assert keys(app, "learner-b") == []
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).learner_id == "learner-a"
        for model in (StudyCard, ReviewLog, StudySettings):
            left = db.session.scalar(
                select(func.count())
                .select_from(model)
                .where(model.learner_id == "learner-b")
            )
            assert left == 0, model.__name__
        # A had no settings: B's came with it.
        assert queue.settings_of("learner-a").time_zone == "Europe/Paris"
        # The merged cards are what FSRS makes of the whole history.
        events = history.learner_events("learner-a")
        for question in {e.question_id for e in events}:
            timeline = [e for e in events if e.question_id == question]
            replayed = history.replay(timeline, 0.9)[-1].after
            found = queue.card_of("learner-a", question)
            assert found is not None and found[1] == replayed, question
    assert progress_main(browser_a) == progress_main(browser_b)
    assert 'id="total-reviews">10<' in progress_main(browser_b)


def test_joining_your_own_code_changes_nothing(app: Flask) -> None:
    studied(app, "learner-a", HISTORY_A)
    browser = app.test_client()
    as_learner(browser, "learner-a")
    before = keys(app, "learner-a")
    reply = join(browser, issue(browser))
    assert reply.status_code == 303 and "already=1" in reply.headers["Location"]
    assert keys(app, "learner-a") == before
    assert count_rows(app, ReviewLog) == len(HISTORY_A)
