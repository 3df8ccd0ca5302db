"""The progress JSON file: export, import into a fresh learner, bad files refused.

A file exported from one learner and imported into a fresh one gives the same
progress page; importing it again adds nothing; each kind of bad file is
refused with its own message before anything is written.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from quizapp.database import write_lock
from quizapp.extensions import db
from quizapp.models import Learner, ReviewLog, StudyCard, StudySettings
from quizapp.study import portable, queue
from quizapp.study.portable import ProgressFileError
from quizapp.study.queue import Settings
from tests.conftest import count_rows
from tests.test_transfer import (  # noqa: F401  (the `frozen` fixture)
    HISTORY_A,
    NOW,
    as_learner,
    frozen,
    keys,
    progress_main,
    studied,
)


@pytest.fixture
def app(loaded_app: Flask) -> Flask:
    return loaded_app


@pytest.fixture
def exported(app: Flask) -> bytes:
    """Learner A's progress file: six reviews, settings saved (Berlin, 0.85)."""
    with app.app_context():
        db.session.add(Learner(id="learner-a"))
        queue.save_settings(
            "learner-a",
            Settings(new_per_day=7, desired_retention=0.85, time_zone="Europe/Berlin"),
        )
        db.session.commit()
    studied(app, "learner-a", HISTORY_A)
    browser = app.test_client()
    as_learner(browser, "learner-a")
    reply = browser.get("/progress/export.json")
    assert reply.status_code == 200
    assert reply.mimetype == "application/json"
    assert reply.headers["Content-Disposition"] == (
        'attachment; filename="quizapp-progress-2026-06-10.json"'
    )
    return reply.data


def imported(app: Flask, learner: str, data: bytes) -> portable.ImportResult:
    with app.app_context():
        parsed = portable.parse_progress(data, now=NOW)
        write_lock()
        result = portable.import_progress(learner, parsed)
        db.session.commit()
        return result


def test_the_export_holds_settings_and_every_review_in_time_order(
    app: Flask, exported: bytes
) -> None:
    data = json.loads(exported)
    assert data["format"] == "quizapp-progress" and data["version"] == 1
    assert data["exported_at"] == "2026-06-10T12:00:00.123456+00:00"
    assert data["settings"] == {
        "new_per_day": 7,
        "max_reviews_per_day": 200,
        "desired_retention": 0.85,
        "time_zone": "Europe/Berlin",
        "day_starts_at_hour": 4,
    }
    reviews = data["reviews"]
    assert len(reviews) == len(HISTORY_A)
    assert [r["at"] for r in reviews] == sorted(r["at"] for r in reviews)
    assert reviews[0] == {
        "question": "fx-multiple",
        "at": "2026-05-11T11:59:00.123456+00:00",
        "rating": 4,
        "source": "practice",
        "duration_ms": 1001,
    }
    assert {r["source"] for r in reviews} == {"study", "practice", "exam"}
    assert exported.count(b"\n") == len(reviews) + 8  # one review per line


def test_a_fresh_learner_importing_the_file_sees_the_same_progress_page(
    app: Flask, exported: bytes
) -> None:
    original, fresh = app.test_client(), app.test_client()
    as_learner(original, "learner-a")
    fresh.get("/study")  # a new browser: an id, no row yet
    with fresh.session_transaction() as session:
        learner = session["learner"]
    result = imported(app, learner, exported)
    assert (result.reviews, result.added, result.held, result.unknown) == (6, 6, 0, 0)
    assert result.settings_applied and result.questions == 3
    assert progress_main(fresh) == progress_main(original)
    assert sorted(keys(app, learner)) == sorted(keys(app, "learner-a"))
    with app.app_context():
        for question in ("fx-single", "fx-multiple", "fx-cloze"):
            assert (
                queue.card_of(learner, question)[1]
                == (queue.card_of("learner-a", question)[1])
            )
        again = portable.export_progress(learner, NOW)
    assert again == json.loads(exported)  # and the file comes back the same

    twice = imported(app, learner, exported)
    assert (twice.added, twice.held, twice.settings_applied) == (0, 6, False)
    assert count_rows(app, ReviewLog) == 12


def test_saved_settings_are_kept_and_unknown_questions_skipped(
    app: Flask, exported: bytes
) -> None:
    data = json.loads(exported)
    data["reviews"].append(
        {**data["reviews"][0], "question": "not-in-the-bank", "duration_ms": None}
    )
    with app.app_context():
        db.session.add(Learner(id="learner-c"))
        queue.save_settings("learner-c", Settings(time_zone="Asia/Tokyo"))
        db.session.commit()
    result = imported(app, "learner-c", json.dumps(data).encode())
    assert (result.added, result.unknown, result.settings_applied) == (6, 1, False)
    with app.app_context():
        assert queue.settings_of("learner-c").time_zone == "Asia/Tokyo"


def _file(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "format": "quizapp-progress",
        "version": 1,
        "exported_at": "2026-06-10T12:00:00.000000+00:00",
        "settings": None,
        "reviews": [
            {
                "question": "fx-single",
                "at": "2026-06-01T10:00:00.000000+00:00",
                "rating": 3,
                "source": "study",
                "duration_ms": 5000,
            },
            {
                "question": "fx-cloze",
                "at": "2026-06-02T10:00:00.000000+00:00",
                "rating": 1,
                "source": "anki",
                "duration_ms": None,
            },
        ],
    }
    base.update(changes)
    return base


def _review(index: int, **changes: Any) -> dict[str, Any]:
    reviews = [dict(r) for r in _file()["reviews"]]
    reviews[index].update(changes)
    for key, value in changes.items():
        if value is _DROP:
            del reviews[index][key]
    return _file(reviews=reviews)


_DROP = object()
SETTINGS = {
    "new_per_day": 20,
    "max_reviews_per_day": 200,
    "desired_retention": 0.9,
    "time_zone": "UTC",
    "day_starts_at_hour": 4,
}
FUTURE = (NOW + timedelta(hours=1)).isoformat()


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value).encode()


BAD_FILES = [
    (b"", "The file is empty."),
    (b"\xff\xfe{}", "it is not UTF-8 text"),
    (b"PK\x03\x04 an apkg", "This is a zip file (an Anki export?)"),
    (b'{"format": "quizapp-progress",', "it is not valid JSON"),
    (b"[" * 100_000, "nested too deeply"),
    (b'{"format": "quizapp-progress", "version": NaN}', "its JSON holds NaN"),
    ([], "it should be one JSON object"),
    (_file(format="anki"), 'its "format" is "anki"'),
    ({"reviews": []}, 'its "format" is missing'),
    (_file(version=2), "version 2 of the progress format; this app reads version 1"),
    (_file(version="1"), '"version" should be a whole number, not "1"'),
    (_file(version=True), '"version" should be a whole number, not true'),
    (_file(exported_at="yesterday"), '"exported_at" is not a time'),
    (_file(reviews={"a": 1}), '"reviews" should be a list'),
    (_file(reviews=None), '"reviews" should be a list, not missing'),
    (_file(settings=[]), '"settings" should be an object or null'),
    (_file(settings={"new_per_day": 5}), '"settings" lack max_reviews_per_day'),
    (
        _file(settings={**SETTINGS, "time_zone": "Mars/Olympus"}),
        'such as Europe/Berlin or UTC, not "Mars/Olympus"',
    ),
    (
        _file(settings={**SETTINGS, "desired_retention": 0.5}),
        "settings.desired_retention should be a number from 0.80 to 0.97, not 0.5",
    ),
    (
        _file(settings={**SETTINGS, "day_starts_at_hour": 24}),
        "settings.day_starts_at_hour should be a whole number from 0 to 23, not 24",
    ),
    (_file(reviews=[1]), "reviews[0] should be an object"),
    (_review(1, rating=5), "reviews[1].rating should be 1 (again), 2 (hard)"),
    (_review(1, rating="3"), '3 (good) or 4 (easy), not "3"'),
    (_review(1, rating=_DROP), "reviews[1].rating should be 1 (again)"),
    (_review(0, question="../etc"), "reviews[0].question should be a question id"),
    (_review(0, question=7), "reviews[0].question should be a question id"),
    (_review(1, at="2026-06-02 10:00"), "reviews[1].at has no time zone"),
    (_review(1, at="June 2nd"), "reviews[1].at is not a time"),
    (_review(1, at=_DROP), "reviews[1].at should be a time like"),
    (_review(1, at=FUTURE), "reviews[1].at is in the future"),
    (_review(0, at="1969-12-31T23:00:00+00:00"), "reviews[0].at is before 1970"),
    (_review(1, source="phone"), "reviews[1].source should be one of anki, exam"),
    (_review(1, source=["study"]), "reviews[1].source should be one of"),
    (_review(0, duration_ms=-1), "reviews[0].duration_ms should be null or"),
    (_review(0, duration_ms=1.5), "reviews[0].duration_ms should be null or"),
]


@pytest.mark.parametrize(
    ("content", "message"),
    BAD_FILES,
    ids=[f"{i}-{m[:30]}" for i, (_c, m) in enumerate(BAD_FILES)],
)
def test_each_bad_file_has_its_message_and_changes_nothing(
    app: Flask, content: Any, message: str
) -> None:
    studied(app, "learner-b", HISTORY_A[:2])
    before = keys(app, "learner-b")
    counts = [count_rows(app, m) for m in (ReviewLog, StudyCard, StudySettings)]
    with app.app_context(), pytest.raises(ProgressFileError) as raised:
        portable.import_progress(
            "learner-b", portable.parse_progress(_bytes(content), now=NOW)
        )
    assert message in str(raised.value)
    assert keys(app, "learner-b") == before
    assert [count_rows(app, m) for m in (ReviewLog, StudyCard, StudySettings)] == (
        counts
    )


def test_a_good_file_of_the_same_shape_imports(app: Flask) -> None:
    result = imported(app, "learner-d", _bytes(_file()))
    assert (result.added, result.unknown) == (2, 0)
    assert [k[0] for k in keys(app, "learner-d")] == ["fx-single", "fx-cloze"]


def test_too_many_reviews_are_refused(app: Flask) -> None:
    app.config["HISTORY_MAX_REVIEWS"] = 1
    with app.app_context(), pytest.raises(ProgressFileError) as raised:
        portable.parse_progress(_bytes(_file()), now=NOW)
    assert str(raised.value) == (
        "The file holds 2 reviews; one file may hold at most 1."
    )


def test_an_empty_browser_exports_an_empty_file(app: Flask) -> None:
    reply = app.test_client().get("/progress/export.json")
    data = json.loads(reply.data)
    assert (data["settings"], data["reviews"]) == (None, [])
    with app.app_context():
        parsed = portable.parse_progress(reply.data, now=NOW)
    assert parsed.events == () and parsed.settings is None
    assert isinstance(parsed.exported_at, datetime)


def test_the_import_page_takes_the_file_too(app: Flask, exported: bytes) -> None:
    """Uploaded on /progress/import (with a byte-order mark): the same progress."""
    import io

    original, fresh = app.test_client(), app.test_client()
    as_learner(original, "learner-a")
    reply = fresh.post(
        "/progress/import",
        data={"file": (io.BytesIO(b"\xef\xbb\xbf" + exported), "progress.json")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 200, reply.text
    assert 'id="reviews-added">6<' in reply.text
    assert progress_main(fresh) == progress_main(original)
    bad = fresh.post(
        "/progress/import",
        data={"file": (io.BytesIO(b'{"format": "other"}'), "x.json")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400
    assert "Nothing was imported" in bad.text
    assert count_rows(app, ReviewLog) == 12
