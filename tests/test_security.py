"""Safe defaults: headers, cookie flags, production start-up checks, health check."""

import pytest

from quizapp import create_app
from quizapp.security import UnsafeConfiguration


def test_html_pages_carry_csp_and_security_headers(loaded_app, client):
    reply = client.get("/")
    csp = reply.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Referrer-Policy"] == "same-origin"


def test_pages_hold_no_inline_script(loaded_app, client):
    page = client.get("/").get_data(as_text=True)
    assert "<script>" not in page
    assert "<script src=" in page


def test_attempt_pages_are_not_stored_by_caches(loaded_app, client):
    reply = client.post("/quizzes/fx-practice/start")
    page = client.get(reply.headers["Location"], follow_redirects=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")


def test_session_cookie_is_httponly_and_samesite_lax(loaded_app, client):
    client.post("/quizzes/fx-practice/start")
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_session_cookie_holds_only_the_learner_id(loaded_app, client):
    client.post("/quizzes/fx-practice/start")
    with client.session_transaction() as session:
        assert set(session) - {"_permanent"} == {"learner"}


@pytest.mark.parametrize("key", [None, "", "dev-only-change-me", "short-key"])
def test_production_refuses_a_missing_or_weak_secret_key(key):
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY"):
        create_app({"PRODUCTION": True, "SECRET_KEY": key})


def test_production_refuses_debug_mode():
    with pytest.raises(UnsafeConfiguration, match="Debug"):
        create_app({"PRODUCTION": True, "SECRET_KEY": "k" * 40, "DEBUG": True})


def test_production_environment_turns_on_secure_cookies(monkeypatch):
    monkeypatch.setenv("QUIZAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["PRODUCTION"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_postgres_urls_from_hosting_platforms_are_accepted(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:5432/quiz")
    app = create_app()
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri == "postgresql+psycopg://u:p@db.example:5432/quiz"


def test_healthz_reports_ok_when_the_database_answers(client):
    reply = client.get("/healthz")
    assert reply.status_code == 200
    assert reply.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_503_when_the_database_is_unreachable():
    broken = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "sqlite:////nonexistent/dir/db.sqlite",
            "SECRET_KEY": "test-secret-key-not-for-production",
        }
    )
    reply = broken.test_client().get("/healthz")
    assert reply.status_code == 503
    assert reply.get_json()["status"] == "unavailable"


def test_error_pages_show_no_traceback(loaded_app):
    @loaded_app.get("/boom")
    def boom():
        raise RuntimeError("secret internals /etc/passwd SELECT * FROM question")

    loaded_app.config["PROPAGATE_EXCEPTIONS"] = False
    reply = loaded_app.test_client().get("/boom")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 500
    assert "Something went wrong" in page
    assert "Traceback" not in page
    assert "SELECT" not in page
    assert "/etc/passwd" not in page
