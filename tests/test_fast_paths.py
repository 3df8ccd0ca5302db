"""The fast paths keep their promises: caches, stencils, statements, cookies, headers.

The hot pages skip work that Flask, SQLAlchemy and Flask-WTF would otherwise do on
every request (fastread.py, fragments.py, stencils.py, sessions.py, security.py,
ratelimits.py). Each test here names a behaviour those shortcuts must keep: a content
reload reaches every cached page, stencil holes cannot be forged, statement counts
see every statement, a replayed answer needs no write lock, the session cookie is
re-sent only when needed, CSRF tokens stay Flask-WTF's, rate limits and security
headers stay where they belong, and the catalogue pages correctly.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf, validate_csrf
from markupsafe import Markup, escape
from sqlalchemy import event

from quizapp import security
from quizapp.extensions import db
from quizapp.quiz import learners, pages, stencils
from tests.conftest import (
    FIXTURE_CONTENT,
    TEST_DATABASE_URL,
    close_app,
    load_content,
    make_app,
)
from tests.synthetic import write_bank
from tests.test_faults import stored_answers
from tests.test_query_budget import counting
from tests.test_quiz import answer, attempt_row, payload, question_at, start, text_of

IS_POSTGRES = bool(TEST_DATABASE_URL)
sqlite_only = pytest.mark.skipif(
    IS_POSTGRES, reason="SQLite file: driver trace callback and file write locks"
)
QUESTIONS_FILE = Path("questions") / "cooperation-peacekeeping-missions.yaml"
QUIZZES_FILE = Path("quizzes") / "quizzes.yaml"
NOT_QUERIES = ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "RELEASE", "SAVEPOINT")


# ---------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------


@contextmanager
def built(content: Path = FIXTURE_CONTENT, **config: Any) -> Iterator[Flask]:
    """An app with `content` loaded, closed afterwards."""
    app = make_app(content, **config)
    try:
        load_content(app, content)
        yield app
    finally:
        close_app(app)


def copy_content(tmp_path: Path) -> Path:
    """A private copy of the fixture bank that a test may edit."""
    return Path(shutil.copytree(FIXTURE_CONTENT, tmp_path / "content"))


def edit_yaml(path: Path, change: Any) -> None:
    """Load a YAML file, let `change` edit the document, write it back."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )


def edit_question(content: Path, question_id: str, **fields: str) -> None:
    """Set fields (prompt, explanation, ...) of one question in a content copy."""

    def change(document: dict[str, Any]) -> None:
        (found,) = [q for q in document["questions"] if q["id"] == question_id]
        found.update(fields)

    edit_yaml(content / QUESTIONS_FILE, change)


def edit_quiz(content: Path, slug: str, **fields: str) -> None:
    """Set fields (title, description) of one quiz in a content copy."""

    def change(document: dict[str, Any]) -> None:
        (found,) = [q for q in document["quizzes"] if q["slug"] == slug]
        found.update(fields)

    edit_yaml(content / QUIZZES_FILE, change)


def position_of(app: Flask, attempt_id: str, question_id: str) -> int:
    """The 1-based number of a question in an attempt."""
    return attempt_row(app, attempt_id).question_ids.index(question_id) + 1


def prompted_question_of(app: Flask, attempt_id: str) -> Any:
    """The first question of an attempt that has its own prompt (not a cloze)."""
    for number in range(1, len(attempt_row(app, attempt_id).layout) + 1):
        question = question_at(app, attempt_id, number)
        if question.type != "cloze":
            return question
    raise AssertionError("no prompted question in the attempt")


@contextmanager
def sqlite_file_app(tmp_path: Path, **config: Any) -> Iterator[tuple[Flask, Path]]:
    """The app on a SQLite file (WAL, busy timeout) as in production, fixture bank."""
    path = tmp_path / "fast.sqlite"
    with built(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
        SQLALCHEMY_ENGINE_OPTIONS={},
        RATE_LIMIT_START="100000 per minute",
        **config,
    ) as app:
        yield app, path


def on_every_connection(app: Flask, setup: Any) -> None:
    """Run `setup(dbapi_connection)` on every pooled connection, old ones replaced."""

    def connected(dbapi_connection: Any, _record: Any) -> None:
        setup(dbapi_connection)

    with app.app_context():
        event.listen(db.engine, "connect", connected)  # after the app's own pragmas
        db.engine.dispose()


def cards_of(page: str) -> list[str]:
    """The catalogue's quiz cards, as HTML snippets."""
    return re.findall(
        r'<li class="card">(.*?)</li>\s*(?=<li class="card">|</ul>)', page, re.S
    )


def card_titled(page: str, title: str) -> str:
    """The one card whose heading is `title`."""
    (found,) = [c for c in cards_of(page) if f"<h3>{title}</h3>" in c]
    return found


def best_and_action(card: str) -> tuple[str, str]:
    """A card's 'Your best' figure and its button label."""
    best = re.search(r"<dt>Your best</dt><dd>(.*?)</dd>", card)
    action = re.search(r'<button type="submit"\s*>([^<]*)<', card)
    assert best and action, card
    return best.group(1), action.group(1)


def session_data(app: Flask, cookie: str) -> dict[str, Any]:
    """The data in a session cookie, checked with the app's key."""
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.loads(cookie)


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie("session")
    return None if cookie is None else cookie.value


# ---------------------------------------------------------------------------------
# 1. A content reload reaches every cached page, in the same process.
# ---------------------------------------------------------------------------------


def test_content_reload_reaches_cached_catalogue_question_and_results(tmp_path):
    content = copy_content(tmp_path)
    with built(content) as app:
        learner, other = app.test_client(), app.test_client()
        exam = start(learner, "fx-exam")
        edited = prompted_question_of(app, exam)
        old_prompt, old_explanation = escape(edited.prompt), escape(edited.explanation)
        practice = start(learner, "fx-practice")
        open_page = f"/attempts/{practice}/q/{position_of(app, practice, edited.id)}"
        # Another learner has answered it in practice: the revealed page is cached.
        revealed = start(other, "fx-practice")
        number = position_of(app, revealed, edited.id)
        assert answer(other, app, revealed, number).status_code == 302
        revealed_page = f"/attempts/{revealed}/q/{number}"
        assert (
            answer(learner, app, exam, position_of(app, exam, edited.id)).status_code
            == 302
        )
        assert learner.post(f"/attempts/{exam}/finish").status_code == 302
        results_page = f"/attempts/{exam}/results"

        before = {
            "catalogue": text_of(learner.get("/")),
            "question": text_of(learner.get(open_page)),
            "revealed": text_of(other.get(revealed_page)),
            "results": text_of(learner.get(results_page)),
        }
        assert "Fixture exam" in before["catalogue"]
        for name in ("question", "revealed", "results"):
            assert old_prompt in before[name], name
        for name in ("revealed", "results"):
            assert old_explanation in before[name], name

        new_title = "Renamed fixture exam"
        new_prompt = "Which task, in the edited wording, are the engineers doing?"
        new_explanation = "The edited explanation names demining operations."
        edit_quiz(content, "fx-exam", title=new_title)
        edit_question(
            content, edited.id, prompt=new_prompt, explanation=new_explanation
        )
        load_content(app, content)

        catalogue = text_of(learner.get("/"))
        assert new_title in catalogue
        assert "Fixture exam" not in catalogue
        after = {
            "question": text_of(learner.get(open_page)),
            "revealed": text_of(other.get(revealed_page)),
            "results": text_of(learner.get(results_page)),
        }
        for name, page in after.items():
            assert new_prompt in page, name
            assert old_prompt not in page, name
        for name in ("revealed", "results"):
            assert new_explanation in after[name], name
            assert old_explanation not in after[name], name
        # An attempt keeps the title it started with; a new one takes the new title.
        fresh = start(learner, "fx-exam")
        assert new_title in text_of(learner.get(f"/attempts/{fresh}/q/1"))


# ---------------------------------------------------------------------------------
# 2. Stencil holes cannot be forged, by a value or by content.
# ---------------------------------------------------------------------------------

FORGED = '<!--hole:csrf--><script>alert("x")</script>'
FORGED_ESCAPED = "&lt;!--hole:csrf--&gt;&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"


def test_stencil_fill_escapes_values_that_look_like_holes_or_tags():
    stencil = stencils.Stencil("<p><!--hole:title--></p><i><!--hole:csrf--></i>")
    assert stencil.names == ["title", "csrf"]
    filled = stencil.fill({"title": FORGED, "csrf": "TOKEN"})
    assert filled == f"<p>{FORGED_ESCAPED}</p><i>TOKEN</i>"
    # Markup (a cached, already escaped fragment) goes in as it is.
    assert stencil.fill({"title": Markup("<b>ok</b>"), "csrf": "T"}) == (
        "<p><b>ok</b></p><i>T</i>"
    )


def test_stencil_render_escapes_forged_holes_on_a_real_template(loaded_app):
    values = {
        "title": FORGED,
        "percent": 50,
        "points": "1.0",
        "total": 2,
        "answered": 1,
        "duration": "0 min 1 s",
        "mode_label": "Exam",
        "retry_url": "/attempts/x/retry",
        "retry_label": "Retry the 1 question I missed",
        "missed_deck_url": "/attempts/x/missed.apkg",
        "csrf": "THE-TOKEN",
        "reviews": Markup("<li>review</li>"),
    }
    with loaded_app.test_request_context("/attempts/x/results"):
        for _ in range(2):  # built from the template, then from the cached stencil
            page = stencils.render(pages.ResultsPage(**values))
            assert "<script>" not in page
            assert FORGED_ESCAPED in page
            assert page.count("THE-TOKEN") == 1  # only the real csrf hole
            assert "<!--hole:" not in page
            assert "<li>review</li>" in page


def test_content_text_with_a_hole_marker_is_shown_escaped(tmp_path):
    content = copy_content(tmp_path)
    prompt = "Which <!--hole:x--> task <script>alert(1)</script> is this?"
    edit_question(content, "fx-single", prompt=prompt)
    edit_quiz(content, "fx-practice", title="Practice <!--hole:best0--> <b>bold</b>")
    with built(content) as app:
        client = app.test_client()
        catalogue = client.get("/")
        assert catalogue.status_code == 200
        page = text_of(catalogue)
        assert "Practice &lt;!--hole:best0--&gt; &lt;b&gt;bold&lt;/b&gt;" in page
        assert "<!--hole:" not in page and "<b>bold" not in page
        attempt_id = start(client, "fx-practice")
        number = position_of(app, attempt_id, "fx-single")
        shown = "Which &lt;!--hole:x--&gt; task &lt;script&gt;alert(1)&lt;/script&gt;"
        for revealed in (False, True):
            reply = client.get(f"/attempts/{attempt_id}/q/{number}")
            assert reply.status_code == 200, text_of(reply)[:500]
            page = text_of(reply)
            assert shown in page, revealed
            assert "<!--hole:" not in page and "<script>alert" not in page
            assert answer(client, app, attempt_id, number).status_code == 302


# ---------------------------------------------------------------------------------
# 3. Statement counts see every statement the driver runs.
# ---------------------------------------------------------------------------------


def is_query(sql: str) -> bool:
    """A statement that is a query, not transaction control or a pragma."""
    return not sql.lstrip().upper().startswith(NOT_QUERIES)


@sqlite_only
def test_counted_statements_cover_everything_the_sqlite_driver_runs(tmp_path):
    with sqlite_file_app(tmp_path) as (app, _path):
        traced: list[str] = []
        on_every_connection(app, lambda c: c.set_trace_callback(traced.append))
        client = app.test_client()
        attempt_id = start(client, "fx-exam")
        form = {"version": "0", **payload(question_at(app, attempt_id, 1))}
        pages = {
            "catalogue": lambda: client.get("/"),
            "question": lambda: client.get(f"/attempts/{attempt_id}/q/1"),
            "answer": lambda: client.post(f"/attempts/{attempt_id}/q/1", data=form),
            "finish": lambda: client.post(f"/attempts/{attempt_id}/finish"),
            "results": lambda: client.get(f"/attempts/{attempt_id}/results"),
        }
        seen: dict[str, tuple[int, int]] = {}
        for name, call in pages.items():
            traced.clear()
            # The budget test's own counter: SQLAlchemy's events + fastread's.
            with counting(app) as counted:
                reply = call()
            assert reply.status_code in (200, 302), (name, reply.status_code)
            by_driver = [s for s in traced if is_query(s)]
            by_count = [s for s, _parameters in counted if is_query(s)]
            seen[name] = (len(by_count), len(by_driver))
            assert by_driver, f"{name}: the trace callback saw nothing"
            assert len(by_driver) <= len(by_count), (name, by_driver, by_count)
        assert seen["answer"][1] >= 3, seen  # the read, then the write under the lock


# ---------------------------------------------------------------------------------
# 4. A replayed answer needs no write lock; a changed one waits for it.
# ---------------------------------------------------------------------------------


@sqlite_only
def test_replayed_answer_is_answered_from_the_read_while_the_write_lock_is_held(
    tmp_path,
):
    with sqlite_file_app(tmp_path) as (app, path):
        client = app.test_client()
        attempt_id = start(client, "fx-exam")
        question = question_at(app, attempt_id, 1)
        same = {"version": "0", **payload(question, correct=True)}
        first = client.post(f"/attempts/{attempt_id}/q/1", data=same)
        assert first.status_code == 302
        saved = stored_answers(app)
        assert len(saved) == 1
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            holder.execute("BEGIN IMMEDIATE")
            began = time.monotonic()
            replay = client.post(f"/attempts/{attempt_id}/q/1", data=same)
            took = time.monotonic() - began
            assert replay.status_code == 302, text_of(replay)[:300]
            assert replay.headers["Location"] == first.headers["Location"]
            assert took < 2.0, took  # the busy timeout is 5 s: no lock was asked for
            # A different answer needs the lock: keep its wait short.
            on_every_connection(app, lambda c: c.execute("PRAGMA busy_timeout=300"))
            changed = {"version": "0", **payload(question, correct=False)}
            refused = client.post(f"/attempts/{attempt_id}/q/1", data=changed)
            assert refused.status_code == 503
            assert int(refused.headers["Retry-After"]) > 0
            assert "try again" in text_of(refused).lower()
        finally:
            if holder.in_transaction:
                holder.execute("ROLLBACK")
            holder.close()
        assert stored_answers(app) == saved  # nothing new, nothing changed


# ---------------------------------------------------------------------------------
# 5. The session cookie is sent when it changed or is old, never otherwise.
# ---------------------------------------------------------------------------------


def test_session_cookie_is_sent_only_when_new_changed_or_old(loaded_app, monkeypatch):
    client = loaded_app.test_client()
    first = client.get("/")
    assert "session=" in first.headers.get("Set-Cookie", "")
    cookie = session_cookie(client)
    learner = session_data(loaded_app, cookie)["learner"]

    again = client.get("/")
    assert again.status_code == 200
    assert "Set-Cookie" not in again.headers
    assert "Cookie" in again.headers.get("Vary", "")

    # The cached serializer signs and checks exactly as Flask's own does.
    flasks = SecureCookieSessionInterface().get_signing_serializer(loaded_app)
    assert flasks.loads(cookie)["learner"] == learner
    by_flask = loaded_app.test_client()
    by_flask.set_cookie("session", flasks.dumps(flasks.loads(cookie)))
    reply = by_flask.get("/")
    assert "Set-Cookie" not in reply.headers
    assert 'name="csrf_token" type="hidden" value="' in text_of(reply)

    tomorrow = learners.time.time() + timedelta(days=1).total_seconds()
    monkeypatch.setattr(learners.time, "time", lambda: tomorrow)
    refreshed = client.get("/")
    assert "session=" in refreshed.headers.get("Set-Cookie", "")
    assert session_data(loaded_app, session_cookie(client))["learner"] == learner
    monkeypatch.undo()

    other = Flask("another-site")
    other.secret_key = "another-key-entirely-not-this-apps"
    forged = SecureCookieSessionInterface().get_signing_serializer(other)
    stranger = loaded_app.test_client()
    stranger.set_cookie("session", forged.dumps({"learner": learner}))
    reply = stranger.get("/")
    assert "session=" in reply.headers.get("Set-Cookie", "")
    fresh = session_data(loaded_app, session_cookie(stranger))["learner"]
    assert fresh != learner


# ---------------------------------------------------------------------------------
# 6. CSRF tokens are Flask-WTF's.
# ---------------------------------------------------------------------------------


def test_csrf_token_is_flask_wtfs_token_and_a_new_post_view_is_protected(loaded_app):
    with loaded_app.test_request_context("/"):
        token = generate_csrf()
        validate_csrf(token)  # raises ValidationError when not accepted
    # CSRFProtect guards every POST of the app, a view added later too.
    protected = make_app(WTF_CSRF_ENABLED=True)
    protected.add_url_rule("/new-form", "new_form", lambda: "stored", methods=["POST"])
    try:
        client = protected.test_client()
        refused = client.post("/new-form", data={"x": "1"})
        assert refused.status_code == 400
        assert "stored" not in text_of(refused)
    finally:
        close_app(protected)


def test_start_with_the_catalogue_token_works_and_a_tampered_one_is_refused():
    with built(WTF_CSRF_ENABLED=True) as app:
        client = app.test_client()
        page = text_of(client.get("/"))
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert match
        token = match.group(1)
        tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
        refused = client.post(
            "/quizzes/fx-practice/start", data={"csrf_token": tampered}
        )
        assert refused.status_code == 400
        assert client.post("/quizzes/fx-practice/start").status_code == 400
        reply = client.post("/quizzes/fx-practice/start", data={"csrf_token": token})
        assert reply.status_code == 302, text_of(reply)[:300]


# ---------------------------------------------------------------------------------
# 7. Rate limits apply, with their headers only on limited views.
# ---------------------------------------------------------------------------------


def ratelimit_headers(reply: Any) -> list[str]:
    return [k for k, _ in reply.headers.items() if k.lower().startswith("x-ratelimit")]


def test_rate_limit_applies_and_its_headers_stay_on_limited_views():
    with built(RATE_LIMIT_START="2 per minute") as app:
        client = app.test_client()
        first = client.post("/quizzes/fx-practice/start")
        assert first.status_code == 302
        assert {"X-RateLimit-Limit", "X-RateLimit-Remaining"} <= set(
            ratelimit_headers(first)
        ), first.headers
        assert client.post("/quizzes/fx-practice/start").status_code == 302
        third = client.post("/quizzes/fx-practice/start")
        assert third.status_code == 429
        assert int(third.headers["Retry-After"]) > 0
        assert ratelimit_headers(third)
        attempt_id = re.search(r"/attempts/([\w-]+)", first.headers["Location"])[1]
        for path in ("/", f"/attempts/{attempt_id}/q/1"):
            reply = client.get(path)
            assert reply.status_code == 200, path
            assert ratelimit_headers(reply) == [], (path, reply.headers)


# ---------------------------------------------------------------------------------
# 8. The catalogue pages, and shows the learner's figures on the right card.
# ---------------------------------------------------------------------------------


def test_catalogue_pages_and_puts_the_learners_figures_on_the_right_card(tmp_path):
    bank = write_bank(tmp_path / "bank", 60, quizzes=30)
    with built(bank, CATALOGUE_PAGE_SIZE=24) as app:
        client = app.test_client()
        first = text_of(client.get("/"))
        assert len(cards_of(first)) == 24
        assert [re.search(r"<h3>(.*?)</h3>", c)[1] for c in cards_of(first)] == [
            f"Quiz {n}" for n in range(24)
        ]
        assert 'rel="next" href="?page=2#quizzes"' in first
        assert 'rel="prev"' not in first
        second = text_of(client.get("/?page=2"))
        assert len(cards_of(second)) == 6
        assert 'rel="prev" href="?page=1#quizzes"' in second
        assert 'rel="next"' not in second
        assert "<h3>Quiz 29</h3>" in second and "<h3>Quiz 23</h3>" not in second
        for bad in ("3", "0", "-1"):
            reply = client.get(f"/?page={bad}")
            assert reply.status_code == 404, bad
            assert "There are 2 pages of quizzes" in text_of(reply)
            assert "Content-Security-Policy" in reply.headers  # the site's HTML page
        assert text_of(client.get("/?page=abc")) == text_of(client.get("/"))

        attempt_id = start(client, "quiz-25")
        second = text_of(client.get("/?page=2"))
        assert best_and_action(card_titled(second, "Quiz 25")) == (
            "not taken yet",
            "Resume",
        )
        assert best_and_action(card_titled(second, "Quiz 24")) == (
            "not taken yet",
            "Start",
        )
        total = len(attempt_row(app, attempt_id).layout)
        assert answer(client, app, attempt_id, 1).status_code == 302
        assert client.post(f"/attempts/{attempt_id}/finish").status_code == 302
        second = text_of(client.get("/?page=2"))
        assert best_and_action(card_titled(second, "Quiz 25")) == (
            f"{1 / total:.0%}",
            "Start",
        )
        for title in ("Quiz 24", "Quiz 26", "Quiz 29"):
            assert best_and_action(card_titled(second, title))[0] == "not taken yet"
        first = text_of(client.get("/"))
        assert "Resume" not in first
        assert first.count("not taken yet") == 24


# ---------------------------------------------------------------------------------
# 9. Security headers, by kind of response.
# ---------------------------------------------------------------------------------


def test_security_headers_by_kind_of_response(loaded_app):
    client = loaded_app.test_client()
    attempt_id = start(client, "fx-practice")
    for path in (f"/attempts/{attempt_id}/q/1", f"/attempts/{attempt_id}"):
        reply = client.get(path)
        assert reply.headers.getlist("Cache-Control") == ["no-store"], path
    catalogue = client.get("/")
    assert catalogue.headers.getlist("Content-Security-Policy") == [security.CSP]
    assert "no-store" not in catalogue.headers.get("Cache-Control", "")
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert missing.headers["Content-Security-Policy"] == security.CSP
    page = client.get(f"/attempts/{attempt_id}/q/1")
    assert page.mimetype == "text/html"
    assert page.headers.getlist("Content-Security-Policy") == [security.CSP]
    for path in ("/healthz", "/decks/quizzes/fx-practice.apkg"):
        reply = client.get(path)
        assert reply.status_code == 200, path
        assert reply.mimetype != "text/html", path
        assert reply.headers.getlist("X-Content-Type-Options") == ["nosniff"], path
        assert "Content-Security-Policy" not in reply.headers, path
