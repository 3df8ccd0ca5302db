"""Faults: a crash mid-answer, a held write lock, a failing disk, a killed load.

Each injected fault must roll back whole and lose no answer a learner was told was
saved; a retry afterwards must succeed. (A gunicorn worker killed mid-attempt is
covered by the concurrency tests.)

Figures: STATS counts faults injected and answers lost (must be 0); the module
prints one summary line at its end.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from quizapp.anki import builder
from quizapp.content import loader
from quizapp.extensions import db
from quizapp.models import Attempt, ContentState, Question, Quiz, Response
from quizapp.quiz import attempts
from tests.conftest import (
    FIXTURE_CONTENT,
    close_app,
    count_rows,
    load_content,
    make_app,
)
from tests.test_hostile import (
    HIGH_LIMITS,
    IS_POSTGRES,
    attempt_path,
    print_figures,
    snapshot,
)
from tests.test_quiz import answer, attempt_row, payload, question_at, start

STATS: dict[str, int] = {"faults injected": 0, "answers lost": 0}
sqlite_only = pytest.mark.skipif(
    IS_POSTGRES, reason="SQLite file locking; PostgreSQL has its own lock test"
)


class InjectedFault(RuntimeError):
    """The failure a test injects."""


@pytest.fixture(scope="module", autouse=True)
def report_figures(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    print_figures(request, "test_faults", STATS)


@pytest.fixture
def quiz_app() -> Iterator[Flask]:
    app = make_app(**HIGH_LIMITS)
    load_content(app)
    yield app
    close_app(app)


def stored_answers(app: Flask) -> dict[tuple[str, str], tuple[Any, float, int]]:
    """Every stored answer: (attempt, question) -> (answer, score, version)."""
    with app.app_context():
        rows = db.session.execute(
            select(
                Response.attempt_id,
                Response.question_id,
                Response.answer,
                Response.score,
                Response.version,
            )
        ).all()
        return {
            (a, q): (answer, score, version) for a, q, answer, score, version in rows
        }


def check_nothing_lost(app: Flask, saved: dict[tuple[str, str], Any]) -> None:
    """Every answer acknowledged earlier is still stored, unchanged."""
    now = stored_answers(app)
    lost = [key for key, value in saved.items() if now.get(key) != value]
    STATS["answers lost"] += len(lost)
    assert not lost, lost


def once(fault: Callable[..., Any], real: Callable[..., Any]) -> Callable[..., Any]:
    """A stand-in for `real` that fails (via `fault`) the first time only."""
    calls = {"n": 0}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            STATS["faults injected"] += 1
            return fault(real, *args, **kwargs)
        return real(*args, **kwargs)

    return wrapper


def fail_before(real: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    raise InjectedFault("injected before the call")


def fail_after(real: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    real(*args, **kwargs)
    raise InjectedFault("injected after the call")


FAULT_POINTS = {
    # Grading fails before the row is made.
    "grade": (attempts, "grade", fail_before),
    # The row is added and flushed, then the request dies before its commit.
    "after save_answer": (attempts, "save_answer", fail_after),
    # The commit itself fails (connection lost, disk full).
    "commit": (Session, "commit", fail_before),
}


def assert_error_page(reply: Any) -> None:
    page = reply.get_data(as_text=True)
    assert reply.status_code >= 400
    assert "try again" in page.lower()
    assert "Traceback" not in page
    assert "InjectedFault" not in page and "OperationalError" not in page


@pytest.mark.parametrize("point", FAULT_POINTS)
def test_a_crash_between_saving_an_answer_and_committing_rolls_back_and_a_retry_works(
    quiz_app: Flask, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    client = quiz_app.test_client()
    attempt_id = start(client, "fx-exam")
    assert answer(client, quiz_app, attempt_id, 1, correct=True).status_code == 302
    saved = stored_answers(quiz_app)
    owner, name, fault = FAULT_POINTS[point]
    real = getattr(owner, name)
    # A new answer (question 2), then a changed one (question 1, version 1 -> 2).
    for number, correct, version in ((2, True, "0"), (1, False, "1")):
        monkeypatch.setattr(owner, name, once(fault, real))
        before = snapshot(quiz_app)
        reply = answer(client, quiz_app, attempt_id, number, correct, version=version)
        assert_error_page(reply)
        assert snapshot(quiz_app) == before, "a failed request left rows behind"
        check_nothing_lost(quiz_app, saved)
        assert attempt_row(quiz_app, attempt_id).finished_at is None
        # The learner posts the same form again, and it goes through.
        reply = answer(client, quiz_app, attempt_id, number, correct, version=version)
        assert reply.status_code == 302
        monkeypatch.setattr(owner, name, real)
        saved = stored_answers(quiz_app)
    question = question_at(quiz_app, attempt_id, 1)
    assert saved[(attempt_id, question.id)][1:] == (0.0, 2)  # changed once, graded
    assert len(saved) == 2


@pytest.mark.parametrize(
    ("owner", "name", "fault"),
    [(attempts, "finish_attempt", fail_after), (Session, "commit", fail_before)],
    ids=["after finish_attempt", "commit"],
)
def test_a_crash_while_finishing_rolls_back_and_a_retry_finishes(
    quiz_app: Flask,
    monkeypatch: pytest.MonkeyPatch,
    owner: Any,
    name: str,
    fault: Callable[..., Any],
) -> None:
    client = quiz_app.test_client()
    attempt_id = start(client, "fx-exam")
    answer(client, quiz_app, attempt_id, 1, correct=True)
    answer(client, quiz_app, attempt_id, 2, correct=True)
    saved = stored_answers(quiz_app)
    real = getattr(owner, name)
    monkeypatch.setattr(owner, name, once(fault, real))
    reply = client.post(attempt_path(attempt_id, "/finish"))
    assert_error_page(reply)
    attempt = attempt_row(quiz_app, attempt_id)
    assert (attempt.finished_at, attempt.score) == (None, None)
    check_nothing_lost(quiz_app, saved)
    reply = client.post(attempt_path(attempt_id, "/finish"))
    assert reply.status_code == 302
    assert attempt_row(quiz_app, attempt_id).score == 0.5
    check_nothing_lost(quiz_app, saved)


# ---------------------------------------------------------------------------------
# A write lock held by someone else.
# ---------------------------------------------------------------------------------


@pytest.fixture
def file_app(tmp_path: Path) -> Iterator[tuple[Flask, Path]]:
    """The app on a SQLite file (WAL, busy timeout), as in production."""
    path = tmp_path / "x.sqlite"
    app = make_app(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
        SQLALCHEMY_ENGINE_OPTIONS={},
        **HIGH_LIMITS,
    )
    load_content(app)
    yield app, path
    close_app(app)


def hold_sqlite_write_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    STATS["faults injected"] += 1
    return holder


def release_later(seconds: float, release: Callable[[], Any]) -> threading.Timer:
    timer = threading.Timer(seconds, release)
    timer.start()
    return timer


@sqlite_only
def test_a_sqlite_write_lock_held_for_a_second_makes_the_answer_wait_then_save(
    file_app: tuple[Flask, Path],
) -> None:
    app, path = file_app
    client = app.test_client()
    attempt_id = start(client, "fx-exam")
    answer(client, app, attempt_id, 1)
    saved = stored_answers(app)
    holder = hold_sqlite_write_lock(path)
    timer = release_later(1.0, lambda: holder.execute("ROLLBACK"))
    try:
        began = time.monotonic()
        reply = answer(client, app, attempt_id, 2)
        waited = time.monotonic() - began
    finally:
        timer.join()
        holder.close()
    assert reply.status_code == 302
    assert 0.8 <= waited < 5.0, waited  # queued on the 5 s busy timeout
    check_nothing_lost(app, saved)
    assert len(stored_answers(app)) == 2


def shorten_busy_timeout(app: Flask, milliseconds: int) -> None:
    """Keep the test short: a busy timeout below the app's 5 s, on new connections."""

    def pragma(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout={milliseconds}")

    with app.app_context():
        event.listen(db.engine, "connect", pragma)  # after the app's own pragmas
        db.engine.dispose()


def lock_timeout_reply(app: Flask, path: Path) -> tuple[Any, FlaskClient, str, dict]:
    """An answer posted while the write lock stays held past the busy timeout."""
    shorten_busy_timeout(app, 300)
    client = app.test_client()
    attempt_id = start(client, "fx-exam")
    answer(client, app, attempt_id, 1)
    saved = stored_answers(app)
    holder = hold_sqlite_write_lock(path)
    try:
        reply = answer(client, app, attempt_id, 2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    return reply, client, attempt_id, saved


@sqlite_only
def test_a_sqlite_write_lock_held_past_the_busy_timeout_loses_nothing(
    file_app: tuple[Flask, Path],
) -> None:
    app, path = file_app
    reply, client, attempt_id, saved = lock_timeout_reply(app, path)
    assert_error_page(reply)
    check_nothing_lost(app, saved)
    assert len(stored_answers(app)) == 1  # the refused answer was not half-saved
    reply = answer(client, app, attempt_id, 2)  # the retry, once the lock is gone
    assert reply.status_code == 302
    check_nothing_lost(app, saved)
    assert len(stored_answers(app)) == 2


@sqlite_only
def test_a_sqlite_write_lock_timeout_answers_503_with_retry_after(
    file_app: tuple[Flask, Path],
) -> None:
    app, path = file_app
    reply, _client, _attempt_id, _saved = lock_timeout_reply(app, path)
    assert reply.status_code == 503
    assert int(reply.headers["Retry-After"]) > 0


@pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL row locks")
def test_a_postgres_row_lock_held_for_a_second_makes_the_answer_wait_then_save(
    quiz_app: Flask,
) -> None:
    import psycopg

    client = quiz_app.test_client()
    attempt_id = start(client, "fx-exam")
    answer(client, quiz_app, attempt_id, 1)
    saved = stored_answers(quiz_app)
    with quiz_app.app_context():
        url = db.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
    holder = psycopg.connect(url)
    holder.execute("SELECT id FROM attempt WHERE id = %s FOR UPDATE", (attempt_id,))
    STATS["faults injected"] += 1
    timer = release_later(1.0, holder.rollback)
    try:
        began = time.monotonic()
        reply = answer(client, quiz_app, attempt_id, 2)
        waited = time.monotonic() - began
    finally:
        timer.join()
        holder.close()
    assert reply.status_code == 302
    assert waited >= 0.8, waited
    check_nothing_lost(quiz_app, saved)
    assert len(stored_answers(quiz_app)) == 2


# ---------------------------------------------------------------------------------
# A failing disk during a deck export.
# ---------------------------------------------------------------------------------


class FailingOs:
    """The os module, with one call failing as a full or broken disk would."""

    def __init__(self, name: str, error: OSError) -> None:
        self.name, self.error = name, error

    def __getattr__(self, attribute: str) -> Any:
        if attribute == self.name:
            return self.fail
        return getattr(os, attribute)

    def fail(self, *args: Any, **kwargs: Any) -> Any:
        STATS["faults injected"] += 1
        raise self.error


class HalfWritingFile:
    """A file that writes half of what it is given, then hits a full disk."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.file = open(*args, **kwargs)  # noqa: SIM115 - closed by __exit__

    def __enter__(self) -> HalfWritingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.file, attribute)

    def write(self, data: bytes) -> int:
        self.file.write(data[: len(data) // 2])
        self.file.flush()
        STATS["faults injected"] += 1
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("fault", ["write", "fsync", "replace"])
def test_a_failing_disk_during_deck_export_leaves_the_previous_file_intact(
    quiz_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    folder = tmp_path / "decks"
    folder.mkdir()
    target = folder / "peacekeeping-bank.apkg"
    runner = quiz_app.test_cli_runner()
    export = ["anki", "export", "-o", str(target)]
    result = runner.invoke(args=[*export, "--tag", "humanitarian"])
    assert result.exit_code == 0, result.output
    previous = target.read_bytes()
    if fault == "write":
        monkeypatch.setattr(builder, "open", HalfWritingFile, raising=False)
    else:
        error = OSError(errno.EIO if fault == "fsync" else errno.ENOSPC, fault)
        monkeypatch.setattr(builder, "os", FailingOs(fault, error))
    # The whole bank now: a different, bigger deck than the one on disk.
    result = runner.invoke(args=export)
    assert result.exit_code == 1
    assert f"cannot write {target}" in result.output
    assert "Traceback" not in result.output
    assert target.read_bytes() == previous
    assert sorted(p.name for p in folder.iterdir()) == [target.name]  # no .tmp left
    monkeypatch.undo()
    result = runner.invoke(args=export)
    assert result.exit_code == 0, result.output
    assert target.read_bytes() != previous


# ---------------------------------------------------------------------------------
# A content load killed midway.
# ---------------------------------------------------------------------------------

OLD_PROMPT = (
    "Engineers of a mission are clearing mines near a village school. "
    "Which humanitarian task is this?"
)
NEW_QUESTION = """\
- id: fx-true-false-extra
  type: true_false
  prompt: The essay says peacekeepers respond to natural disasters.
  answer: true
  explanation: The essay cites the 2010 earthquake in Haiti.
  source:
  - quote: the 2010 earthquake in Haiti
  tags: [humanitarian]
  difficulty: easy
  bloom: remember
"""


def edited_content(tmp_path: Path) -> Path:
    """The fixture bank with one prompt changed and one question added (last)."""
    folder = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, folder)
    questions = folder / "questions" / "cooperation-peacekeeping-missions.yaml"
    text = questions.read_text(encoding="utf-8")
    assert OLD_PROMPT in text
    text = text.replace(OLD_PROMPT, "Mines are being cleared. Which task is this?")
    questions.write_text(text.rstrip("\n") + "\n" + NEW_QUESTION, encoding="utf-8")
    return folder


def content_state(app: Flask) -> tuple[Any, ...]:
    with app.app_context():
        return (
            count_rows(app, Question),
            count_rows(app, Quiz),
            db.session.get(Question, "fx-single").prompt,
            db.session.get(Question, "fx-true-false-extra"),
            db.session.get(ContentState, 1).version,
            tuple(db.session.scalars(select(Quiz.size).order_by(Quiz.slug))),
        )


@pytest.mark.parametrize("error", [InjectedFault, KeyboardInterrupt])
def test_a_content_load_killed_midway_leaves_the_previous_content_intact(
    quiz_app: Flask,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    error: type[BaseException],
) -> None:
    client = quiz_app.test_client()
    attempt_id = start(client, "fx-practice")
    answer(client, quiz_app, attempt_id, 1)
    saved = stored_answers(quiz_app)
    content = edited_content(tmp_path)
    before = content_state(quiz_app)
    assert before[2] == OLD_PROMPT and before[3] is None
    real = loader._upsert_question
    calls = {"n": 0}

    def dies_on_the_last_question(doc: Any, *args: Any) -> None:
        calls["n"] += 1
        real(doc, *args)  # the changed prompt and the new question are in the session
        if doc.id == "fx-true-false-extra":
            STATS["faults injected"] += 1
            raise error("killed midway")

    monkeypatch.setattr(loader, "_upsert_question", dies_on_the_last_question)
    runner = quiz_app.test_cli_runner()
    result = runner.invoke(args=["content", "load", str(content)])
    assert result.exit_code != 0
    assert calls["n"] == 9
    assert content_state(quiz_app) == before
    check_nothing_lost(quiz_app, saved)
    assert client.get(attempt_path(attempt_id, "/q/1")).status_code == 200
    monkeypatch.undo()
    # Running the load again, unharmed, applies the whole change.
    result = runner.invoke(args=["content", "load", str(content)])
    assert result.exit_code == 0, result.output
    after = content_state(quiz_app)
    assert after[0] == before[0] + 1
    assert after[2] != OLD_PROMPT and after[3] is not None
    assert after[4] == before[4] + 1
    check_nothing_lost(quiz_app, saved)


def test_a_failed_load_does_not_disturb_a_learner_mid_attempt(
    quiz_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = quiz_app.test_client()
    attempt_id = start(client, "fx-exam")
    answer(client, quiz_app, attempt_id, 1)
    monkeypatch.setattr(
        loader, "_upsert_question", once(fail_before, loader._upsert_question)
    )
    result = quiz_app.test_cli_runner().invoke(
        args=["content", "load", str(edited_content(tmp_path))]
    )
    assert result.exit_code != 0
    saved = stored_answers(quiz_app)
    question = question_at(quiz_app, attempt_id, 2)
    form = {"version": "0", **payload(question)}
    reply = client.post(attempt_path(attempt_id, "/q/2"), data=form)
    assert reply.status_code == 302
    check_nothing_lost(quiz_app, saved)
    with quiz_app.app_context():
        assert db.session.get(Attempt, attempt_id) is not None
