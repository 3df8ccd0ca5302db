"""A real gunicorn on 127.0.0.1, and a cookie-keeping HTTP client to drive it.

Used by the concurrency tests: several worker processes share one database, so
races between requests are real, unlike with the in-process test client.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
REQUEST_TIMEOUT = 30.0
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
# Limits high enough that no burst below is ever refused with 429; no CSRF, so a
# simulated learner needs no page load before each post.
APP_OVERRIDES: dict[str, object] = {
    "RATE_LIMIT_START": "100000 per minute",
    "RATE_LIMIT_DECKS": "100000 per minute",
    "RATE_LIMIT_ANSWER": "100000 per minute",
    "RATE_LIMIT_WRITE": "100000 per minute",
    "WTF_CSRF_ENABLED": False,
}
# Settings from the developer's shell that would change what the server does.
SCRUBBED = (
    "DATABASE_URL",
    "SECRET_KEY",
    "CONTENT_DIR",
    "REDIS_URL",
    "QUIZAPP_ENV",
    "SESSION_COOKIE_SECURE",
    "TRUSTED_HOSTS",
    "TRUSTED_PROXIES",
    "WEB_CONCURRENCY",
    "GUNICORN_CMD_ARGS",
)
LISTENING = re.compile(rb"Listening at: (http://127\.0\.0\.1:\d+)")
READY = b"Worker ready"
# A gunicorn config file with one hook, so the log says when each worker has loaded
# the app: the tests then start with every worker serving, not just the first.
HOOKS = f"""
def post_worker_init(worker):
    worker.log.info("{READY.decode()} (pid: %s)", worker.pid)
"""

T = TypeVar("T")


@dataclass(frozen=True)
class Reply:
    """What a request got back."""

    status: int
    location: str
    body: str


class Browser:
    """One simulated browser: its own `session` cookie, on 127.0.0.1 only.

    Parallel requests of one learner share the cookie, like tabs of one browser.
    """

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        assert parts.hostname == "127.0.0.1" and parts.port, base_url
        self.port = parts.port
        self._cookie: str | None = None
        self._lock = threading.Lock()

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, form: Mapping[str, Any] | None = None) -> Reply:
        return self.request("POST", path, form or {})

    def request(
        self, method: str, path: str, form: Mapping[str, Any] | None = None
    ) -> Reply:
        headers = {"Connection": "close"}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        with self._lock:
            if self._cookie is not None:
                headers["Cookie"] = f"session={self._cookie}"
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT
        )
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                self._remember(header)
            location = response.getheader("Location") or ""
            return Reply(response.status, location, text)
        finally:
            connection.close()

    def _remember(self, header: str) -> None:
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        if "session" in cookie:
            with self._lock:
                self._cookie = cookie["session"].value or None


def in_parallel(count: int, task: Callable[[int], T]) -> list[T]:
    """Run task(0..count-1) in `count` threads released together by a barrier."""
    barrier = threading.Barrier(count, timeout=REQUEST_TIMEOUT)

    def run(index: int) -> T:
        barrier.wait()
        return task(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(run, index) for index in range(count)]
        return [future.result(timeout=4 * REQUEST_TIMEOUT) for future in futures]


@contextmanager
def gunicorn(
    database_url: str,
    content_dir: Path,
    log_path: Path,
    workers: int = 3,
    overrides: dict[str, object] | None = None,
    environ: dict[str, str] | None = None,
) -> Iterator[str]:
    """Serve the app with `workers` gunicorn workers; yield the base URL.

    The server gets its settings the way a deployment does (DATABASE_URL,
    SECRET_KEY, CONTENT_DIR) plus APP_OVERRIDES through the factory call. It runs
    in its own process group, which is stopped (and checked empty) on exit.
    """
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env |= {
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "CONTENT_DIR": str(content_dir),
    }
    env |= environ or {}
    config = log_path.with_suffix(".conf.py")
    config.write_text(HOOKS, "utf-8")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        str(config),
        "--workers",
        str(workers),
        "--bind",
        "127.0.0.1:0",  # the server picks a free port and logs it
        "--no-control-socket",
        "--timeout",
        "30",
        "--graceful-timeout",
        "5",
        f"quizapp:create_app({APP_OVERRIDES | (overrides or {})!r})",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield _wait_until_ready(process, log_path, workers)
    finally:
        _stop(process)


def server_log(log_path: Path) -> str:
    """The server's log, for failure messages."""
    return log_path.read_text("utf-8", "replace") if log_path.exists() else ""


def _wait_until_ready(
    process: subprocess.Popen[bytes], log_path: Path, workers: int
) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{server_log(log_path)}")
        log = log_path.read_bytes()
        match = LISTENING.search(log)
        ready = log.count(READY)
        if match and ready >= workers and _healthy(match.group(1).decode()):
            return match.group(1).decode()
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not become ready:\n{server_log(log_path)}")


def _healthy(base_url: str) -> bool:
    try:
        return Browser(base_url).get("/healthz").status == 200
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """TERM the process group, wait for it, KILL what is left; leave no process."""
    group = process.pid  # start_new_session: the group id is the master's pid
    _signal_group(group, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        _signal_group(group, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)
    # The master reaps its workers before it exits; a worker that outlived it
    # anyway is killed, and still being there after that fails the test run.
    deadline = time.monotonic() + STOP_TIMEOUT
    while _signal_group(group, 0):
        if time.monotonic() > deadline:
            _signal_group(group, signal.SIGKILL)
            raise RuntimeError(f"gunicorn left processes in group {group}")
        time.sleep(0.05)


def _signal_group(group: int, signum: int) -> bool:
    """Send a signal to the group; False when no process of it is left."""
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        return False
    return True


def sqlite_file_with_fixture_bank(folder: Path) -> str:
    """A SQLite file in `folder` with the fixture bank loaded; returns its URL.

    The app that loaded it is closed again, so only the server under test holds
    connections to the file.
    """
    from quizapp.extensions import db
    from tests.conftest import FIXTURE_CONTENT, load_content, make_app

    url = f"sqlite:///{folder / 'quizapp.sqlite'}"
    # A file takes the default pool, not the in-memory tests' StaticPool.
    app = make_app(
        FIXTURE_CONTENT, SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS={}
    )
    load_content(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return url
