"""Profile the web benchmark's pages in-process: where a request's time goes.

Run: .venv/bin/python benchmarks/profile_pages.py [--engine sqlite|postgres]
     [--bank real|synthetic] [--pages results ...] [-n 200] [--top 25]

Builds the same database, learners and attempts as benchmarks/web.py, but drives
the app by calling its WSGI entry point with prebuilt environs (no gunicorn, no
sockets, no test client), so the figures are the app's own work per request. For
every page it prints the mean time per request of the app and of the bare app (same
body sizes), cProfile's self time grouped by package (what dominates), and the top
functions by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from werkzeug.test import EnvironBuilder

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bare_app
import web
from app_wsgi import BENCHMARK_OVERRIDES

PACKAGES = (
    "sqlalchemy",
    "jinja2",
    "wtforms",
    "flask_wtf",
    "flask_limiter",
    "limits",
    "flask_sqlalchemy",
    "flask",
    "werkzeug",
    "itsdangerous",
    "markupsafe",
    "psycopg",
    "genanki",
    "quizapp",
    "templates",
    "json",
    "sqlite3",
)

# Inclusive (cumulative) time of the request's main steps; they overlap where one
# runs inside another (lazy loads and url_for inside rendering, for instance).
PHASES = (
    ("whole request (Flask wsgi_app)", "flask/app.py", "wsgi_app"),
    ("the view function", "quizapp/quiz/routes.py", "*"),
    ("Jinja rendering (render_template)", "flask/templating.py", "render_template"),
    ("ORM queries (Session._execute_internal)", "orm/session.py", "_execute_internal"),
    ("DB round trips (sqlite3 cursor.execute)", "~", "execute"),
    ("DB round trips (psycopg cursor.execute)", "psycopg/cursor.py", "execute"),
    ("pool checkout incl. pre-ping", "pool/base.py", "_checkout"),
    ("commit", "orm/session.py", "commit"),
    ("session teardown (scoped_session.remove)", "orm/scoping.py", "remove"),
    ("url_for", "flask/app.py", "url_for"),
    ("WTForms field rendering (widgets)", "wtforms/meta.py", "render_field"),
    ("answer form class + instance", "quizapp/quiz/forms.py", "answer_form"),
    ("feedback/review building", "quizapp/quiz/review.py", "build_feedback"),
    ("CSRF token generate", "flask_wtf/csrf.py", "generate_csrf"),
    ("CSRF token validate", "flask_wtf/csrf.py", "validate_csrf"),
    ("session cookie open", "flask/sessions.py", "open_session"),
    ("session cookie save", "flask/sessions.py", "save_session"),
    ("rate limiter check", "quizapp/ratelimits.py", "hit"),
    ("deck build (cache miss)", "quizapp/anki/builder.py", "build_deck"),
    ("deck questions query", "quizapp/questions.py", "select_questions"),
)


def test_transport(app: Flask) -> web.Transport:
    """Send calls through the app's test client (cookies passed by hand)."""
    client = app.test_client(use_cookies=False)

    def send(call: web.Call) -> web.Reply:
        response = client.open(
            call.path, method=call.method, headers=call.headers, data=call.body
        )
        headers = {k.lower(): v for k, v in response.headers.items()}
        cookies = response.headers.getlist("Set-Cookie")
        return web.Reply(response.status_code, headers, response.get_data(), cookies)

    return send


def wsgi_caller(app: Flask, calls: list[web.Call]) -> Callable[[int], None]:
    """Call the WSGI app directly with prebuilt environs (no test client, no socket).

    The returned function sends call i (mod the number of calls) and reads the body.
    """
    built = []
    for call in calls:
        body = (call.body or "").encode()
        environ = EnvironBuilder(
            path=call.path, method=call.method, headers=call.headers, data=body
        ).get_environ()
        built.append((environ, body))

    def start_response(
        _status: str, _headers: list[tuple[str, str]], _exc_info: object = None
    ) -> None:
        return None

    def send(i: int) -> None:
        environ, body = built[i % len(built)]
        environ = dict(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        chunks = app.wsgi_app(environ, start_response)
        try:
            b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()

    return send


def package_of(filename: str, function: str) -> str:
    """The package a profiled function belongs to (C built-ins by their name)."""
    if filename == "~":
        return f"built-in: {function.split(' of ')[0].strip('<>{}')[:40]}"
    parts = Path(filename).parts
    for name in PACKAGES:
        if name in parts:
            return name
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    return Path(filename).parent.name or filename


def by_package(stats: pstats.Stats, calls: int) -> list[tuple[str, float]]:
    """Self time per package, in ms per request, largest first."""
    totals: dict[str, float] = defaultdict(float)
    raw = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        totals[package_of(filename, function)] += tottime
    return sorted(
        ((name, 1000 * t / calls) for name, t in totals.items()),
        key=lambda item: -item[1],
    )


def by_phase(stats: pstats.Stats, calls: int) -> list[tuple[str, float]]:
    """Inclusive time of each of PHASES, in ms per request."""
    raw = stats.stats  # type: ignore[attr-defined]
    rows = []
    for label, path, function in PHASES:
        total = 0.0
        for (filename, _line, name), (_cc, _nc, _tt, cumtime, callers) in raw.items():
            if function == "*":
                # Views: functions of routes.py called from outside routes.py.
                if filename.endswith(path) and not any(
                    c[0].endswith(path) for c in callers
                ):
                    total += cumtime
            elif (filename == path or filename.endswith(path)) and (
                name == function
                or name.endswith(f"'{function}' of")
                or f"method '{function}' of" in name
            ):
                total += cumtime
        if total:
            rows.append((label, 1000 * total / calls))
    return rows


def time_calls(send: Callable[[int], None], n: int, rounds: int = 5) -> float:
    """Wall time per request (ms): the best of `rounds` means of n/rounds requests.

    The best round is the least disturbed by anything else on the machine.
    """
    per_round = max(1, n // rounds)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for i in range(per_round):
            send(i)
        best = min(best, (time.perf_counter() - started) / per_round)
    return 1000 * best


def profile_target(
    target: web.Target,
    app: Flask,
    bare: Flask,
    n: int,
    top: int,
    dump: Path | None = None,
) -> None:
    """Print timings, self time per package and the top cumulative functions."""
    app_send = wsgi_caller(app, target.calls)
    bare_send = wsgi_caller(bare, target.calls)
    for i in range(20):
        app_send(i)
        bare_send(i)
    app_ms = time_calls(app_send, n)
    bare_ms = time_calls(bare_send, n)
    print(f"\n=== {target.label}: {target.size} bytes, status {target.status}")
    print(
        f"in-process (WSGI call): app {app_ms:.3f} ms/request, bare {bare_ms:.3f} "
        f"ms/request (bare/app {bare_ms / app_ms:.2f}, app - bare "
        f"{1000 * (app_ms - bare_ms):.0f} us)"
    )
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(n):
        app_send(i)
    profiler.disable()
    if dump:
        dump.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(dump / f"{target.name}.prof")
    stats = pstats.Stats(profiler)
    print("inclusive time of the main steps (ms/request under cProfile, share):")
    phases = by_phase(stats, n)
    whole = phases[0][1] if phases else 1.0
    for label, ms in phases:
        print(f"  {label:<44} {ms:7.2f} {ms / whole:5.0%}")
    print("self time by package (ms/request under cProfile, share):")
    for name, ms in by_package(stats, n)[:14]:
        print(f"  {name:<44} {ms:7.2f} {ms / whole:5.0%}")
    print(f"top {top} by cumulative time:")
    stats.sort_stats("cumulative").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    """Set up one engine and bank, then profile the chosen pages."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--bank", choices=("real", "synthetic"), default="real")
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--quizzes", type=int, default=500)
    parser.add_argument("--pages", nargs="+", choices=web.PAGES, default=web.PAGES)
    parser.add_argument("-n", type=int, default=200, help="requests per page")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--posters", type=int, default=8)
    parser.add_argument("--dump", type=Path, help="write NAME.prof files here")
    parser.add_argument("--pg-url", default=f"postgresql://postgres@{web.HOST}:5432")
    parser.add_argument("--pg-database", default="quizbench_profile")
    args = parser.parse_args(argv)
    args.keep_database = False
    with tempfile.TemporaryDirectory(prefix="quizprofile-") as tmp:
        workdir = Path(tmp)
        content = web.ROOT / "content"
        if args.bank == "synthetic":
            content = web.synthetic_bank(
                workdir / "synthetic", args.questions, args.quizzes
            )
        with web.database(args.engine, args, workdir, "profile") as url:
            env = web.server_env(url)
            web.flask_cli(env, "db", "upgrade")
            web.flask_cli(env, "content", "load", str(content))
            os.environ.pop("DATABASE_URL", None)
            app = web_app(url)
            app_send = test_transport(app)
            targets = web.build_targets(app_send, args.posters)
            targets = [t for t in targets if t.name in args.pages]
            web.measure_sizes(app_send, targets)
            spec_path = workdir / "bare.json"
            spec_path.write_text(json.dumps(web.bare_spec(targets)), encoding="utf-8")
            bare = bare_app.create_app(str(spec_path))
            for target in targets:
                profile_target(target, app, bare, args.n, args.top, args.dump)
            with app.app_context():
                from quizapp.extensions import db

                db.session.remove()
                db.engine.dispose()
    return 0


def web_app(url: str) -> Flask:
    """The app as app_wsgi.py builds it, on the given database."""
    from quizapp import create_app
    from quizapp.config import normalise_database_url

    return create_app(
        {
            **BENCHMARK_OVERRIDES,
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(url),
            "SECRET_KEY": secrets.token_urlsafe(48),
        }
    )


if __name__ == "__main__":
    sys.exit(main())
