"""How the app meets its server: chunked bodies, Host headers, proxies, the secret key.

The chunked-body cases run three ways: through the test client (a stream that
fails the way gunicorn's de-chunker does), on Werkzeug's development server and
on a live gunicorn, each with raw bytes on a socket so nothing tidies them first.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import sqlite3
import stat
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from gunicorn.http.errors import InvalidChunkSize
from werkzeug.serving import make_server

from quizapp import create_app
from quizapp.config import instance_secret_key
from quizapp.extensions import db
from quizapp.models import Attempt
from quizapp.serving import REFUSAL_LOG, REFUSAL_MESSAGE
from tests.conftest import FIXTURE_CONTENT, ROOT, count_rows, load_content, make_app
from tests.live_server import gunicorn, server_log, sqlite_file_with_fixture_bank

LIMIT = 64 * 1024  # MAX_CONTENT_LENGTH's default
BUILD_FORM = b"count=2&mode=practice"
TOO_LARGE = "That was more data than a quiz answer needs."
MALFORMED = "The request body was malformed (a broken chunked encoding)."


# ---------------------------------------------------------------------------------
# Chunked request bodies.
# ---------------------------------------------------------------------------------


def chunked(*parts: bytes) -> bytes:
    """A well-formed chunked body of `parts`."""
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


OVERSIZED = chunked(BUILD_FORM + b"&pad=", *[b"a" * 4096] * (LIMIT // 4096 + 1))
# Everything the form needs comes first: processed truncated, it would start a quiz.
assert len(OVERSIZED) > LIMIT
BAD_BODIES = {
    "invalid-chunk-size": b"zz\r\n" + BUILD_FORM + b"\r\n0\r\n\r\n",
    "chunk-longer-than-its-size": b"3\r\n" + BUILD_FORM + b"\r\n0\r\n\r\n",
}


def raw_post(port: int, path: str, body: bytes) -> tuple[int, str]:
    """POST `body` as chunked bytes over a fresh socket; (status, page)."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        # The server may answer before reading it all, and close: its right.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(body)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    status_line, _, rest = reply.partition(b"\r\n")
    return int(status_line.split()[1]), rest.decode("utf-8", "replace")


def sqlite_attempts(url: str) -> int:
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM attempt").fetchone()[0]


@contextmanager
def dev_server(app: Flask) -> Iterator[int]:
    """Werkzeug's development server (what `flask run` uses) in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def served_file(tmp_path: Path) -> str:
    """A SQLite file holding the fixture bank, for a server in this test."""
    return sqlite_file_with_fixture_bank(tmp_path)


def test_chunked_bodies_on_the_development_server(served_file: str) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": served_file,
            "WTF_CSRF_ENABLED": False,
        }
    )
    with dev_server(app) as port:
        for name, body in BAD_BODIES.items():
            status, page = raw_post(port, "/build", body)
            assert (name, status) == (name, 400)
            assert MALFORMED in page
        status, page = raw_post(port, "/build", OVERSIZED)
        assert status == 413
        assert TOO_LARGE in page
        assert sqlite_attempts(served_file) == 0
        status, _ = raw_post(port, "/build", chunked(b"count=2&", b"mode=practice"))
        assert status == 302
        assert sqlite_attempts(served_file) == 1
    with app.app_context():
        db.engine.dispose()


def test_chunked_bodies_on_a_live_gunicorn(served_file: str, tmp_path: Path) -> None:
    log = tmp_path / "gunicorn.log"
    with gunicorn(served_file, FIXTURE_CONTENT, log, workers=1) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        for name, body in BAD_BODIES.items():
            status, page = raw_post(port, "/build", body)
            assert (name, status) == (name, 400), server_log(log)
            assert MALFORMED in page
        status, page = raw_post(port, "/build", OVERSIZED)
        assert status == 413, server_log(log)
        assert TOO_LARGE in page
        assert sqlite_attempts(served_file) == 0
        status, _ = raw_post(port, "/build", chunked(b"count=2&", b"mode=practice"))
        assert status == 302, server_log(log)
        assert sqlite_attempts(served_file) == 1
    assert "Traceback" not in server_log(log)


class GunicornChunks(io.BytesIO):
    """A de-chunked input that fails as gunicorn's reader does on a bad size line."""

    def read(self, size: int | None = -1) -> bytes:
        raise InvalidChunkSize(b"zz")


def test_chunked_bodies_through_the_test_client(loaded_app: Flask) -> None:
    client = loaded_app.test_client()
    # As a server that de-chunks passes it on: no Content-Length, stream terminated.
    server_did_it = {
        "wsgi.input_terminated": True,
        "HTTP_TRANSFER_ENCODING": "chunked",
        "CONTENT_LENGTH": "",  # the test client measures the stream; a server cannot
    }
    form = {"CONTENT_TYPE": "application/x-www-form-urlencoded"}

    def post(stream: io.IOBase) -> tuple[int, str]:
        reply = client.post(
            "/build",
            input_stream=stream,
            environ_overrides=server_did_it | form,
        )
        return reply.status_code, reply.get_data(as_text=True)

    status, page = post(GunicornChunks())
    assert (status, MALFORMED in page) == (400, True)
    status, page = post(io.BytesIO(BUILD_FORM + b"&pad=" + b"a" * LIMIT))
    assert (status, TOO_LARGE in page) == (413, True)
    assert count_rows(loaded_app, Attempt) == 0
    status, _ = post(io.BytesIO(BUILD_FORM))
    assert status == 302
    assert count_rows(loaded_app, Attempt) == 1


# ---------------------------------------------------------------------------------
# TRUSTED_HOSTS.
# ---------------------------------------------------------------------------------


def test_trusted_hosts_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRUSTED_HOSTS", " quiz.example, .quiz.example ,,")
    app = create_app({"SECRET_KEY": "test-secret-key-not-for-production"})
    assert app.config["TRUSTED_HOSTS"] == ["quiz.example", ".quiz.example"]


def test_an_unlisted_host_gets_400_and_no_redirect_reflects_it() -> None:
    app = make_app(TRUSTED_HOSTS=["quiz.example"])
    client = app.test_client()

    assert client.get("/", headers={"Host": "quiz.example"}).status_code == 200
    for path in ("/", "/build//", "/essays//x"):
        reply = client.get(path, headers={"Host": "evil.example"})
        assert reply.status_code == 400, path
        assert "Location" not in reply.headers
        assert "evil.example" not in reply.get_data(as_text=True)
        assert "does not answer to the host name" in reply.get_data(as_text=True)
        assert reply.headers["X-Frame-Options"] == "DENY"  # the usual headers
    # A listed host still gets the slash-merging redirect, to itself.
    reply = client.get("/essays//x", headers={"Host": "quiz.example"})
    assert reply.status_code == 308
    assert reply.headers["Location"] == "http://quiz.example/essays/x"


def test_without_trusted_hosts_the_redirect_reflects_any_host() -> None:
    # Why the setting matters: the default answers every Host header.
    client = make_app().test_client()
    reply = client.get("/essays//x", headers={"Host": "evil.example"})
    assert reply.status_code == 308
    assert reply.headers["Location"] == "http://evil.example/essays/x"


# ---------------------------------------------------------------------------------
# TRUSTED_PROXIES.
# ---------------------------------------------------------------------------------


def start_as(client: FlaskClient, forwarded_for: str) -> int:
    reply = client.post(
        "/quizzes/fx-practice/start", headers={"X-Forwarded-For": forwarded_for}
    )
    return reply.status_code


@pytest.mark.parametrize(
    ("proxies", "second_client"), [("1", 302), ("0", 429)], ids=["1-proxy", "none"]
)
def test_trusted_proxies_give_each_forwarded_client_its_own_rate_limit(
    monkeypatch: pytest.MonkeyPatch, proxies: str, second_client: int
) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", proxies)
    app = make_app(RATE_LIMIT_START="1 per minute")
    load_content(app)

    assert start_as(app.test_client(), "203.0.113.1") == 302
    assert start_as(app.test_client(), "203.0.113.1") == 429
    assert start_as(app.test_client(), "198.51.100.2") == second_client


def test_trusted_proxies_must_be_a_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "yes")
    with pytest.raises(ValueError, match="TRUSTED_PROXIES must be the number"):
        create_app({"SECRET_KEY": "test-secret-key-not-for-production"})


# ---------------------------------------------------------------------------------
# No SECRET_KEY: the app starts, refuses every request, and says why.
# ---------------------------------------------------------------------------------


@pytest.fixture
def keyless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """An app with no SECRET_KEY anywhere: not in the environment, no key file."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("QUIZAPP_ENV", raising=False)
    app = make_app(SECRET_KEY=None)
    assert app.secret_key is None
    return app


@pytest.mark.parametrize("path", ["/", "/build", "/healthz", "/static/style.css"])
def test_without_a_secret_key_every_request_gets_a_503_page(
    keyless: Flask, path: str
) -> None:
    reply = keyless.test_client().get(path)

    assert reply.status_code == 503
    page = reply.get_data(as_text=True)
    assert REFUSAL_MESSAGE.replace("'", "&#39;") in page
    assert "Set-Cookie" not in reply.headers


def test_without_a_secret_key_posts_are_refused_before_anything_is_written(
    keyless: Flask,
) -> None:
    reply = keyless.test_client().post("/build", data={"count": 2})
    assert reply.status_code == 503
    assert count_rows(keyless, Attempt) == 0


def test_without_a_secret_key_a_wsgi_start_logs_one_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="quizapp")
    app = make_app(SECRET_KEY=None)
    assert [r.getMessage() for r in caplog.records] == [REFUSAL_LOG]
    app.test_client().get("/")
    app.test_client().get("/build")
    assert [r.getMessage() for r in caplog.records] == [REFUSAL_LOG]


def test_without_a_secret_key_the_cli_still_works(keyless: Flask) -> None:
    runner = keyless.test_cli_runner()
    result = runner.invoke(args=["content", "load", str(FIXTURE_CONTENT)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["content", "check", str(FIXTURE_CONTENT)]).exit_code == 0


def test_the_key_comes_from_instance_secret_key(tmp_path: Path) -> None:
    assert instance_secret_key(str(tmp_path)) is None
    (tmp_path / "secret_key").write_text("k" * 48 + "\n", "utf-8")
    assert instance_secret_key(str(tmp_path)) == "k" * 48


def test_make_run_creates_a_private_random_key_once(tmp_path: Path) -> None:
    folder = tmp_path / "clone"
    folder.mkdir()
    (folder / "Makefile").write_bytes((ROOT / "Makefile").read_bytes())
    make = ["make", "--no-print-directory", "-C", str(folder), "instance/secret_key"]
    first = subprocess.run(make, capture_output=True, text=True, check=True)
    key_file = folder / "instance" / "secret_key"
    key = key_file.read_text("utf-8").strip()
    assert len(key) == 48
    assert set(key) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "instance/secret_key" in first.stdout
    subprocess.run(make, capture_output=True, text=True, check=True)
    assert key_file.read_text("utf-8").strip() == key  # kept, not replaced
