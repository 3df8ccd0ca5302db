"""Web benchmark: the app under gunicorn vs a bare Flask app of the same page sizes.

Run: .venv/bin/python benchmarks/web.py [--engine sqlite|postgres|both]
     [--bank real|synthetic|both] [--questions N] [--quizzes N] [-d SECONDS] ...

For each engine and bank: a fresh database (SQLite file in a temp dir, or our own
PostgreSQL database), `flask db upgrade`, a timed `flask content load` and its timed
no-change reload; then the app (benchmarks/app_wsgi.py) and the bare Flask app
(benchmarks/bare_app.py) under identical gunicorn settings on 127.0.0.1, each page
driven by wrk against one and then the other, and a table of requests/s, p50/p99
latency and the app/bare ratio. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import importlib
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
HOST = "127.0.0.1"
PROTECTED_DATABASES = {"test", "postgres", "template0", "template1"}
GOALS = {"catalogue": 0.7, "question": 0.6, "answer": 0.4, "results": 0.5}
PAGES = ("catalogue", "question", "answer", "results", "deck", "study", "rating")
ATTEMPT_SIZE = 20
MAX_DURATION = 30
APP_PATHS = ("quizapp", "templates", "migrations")
FORM = "application/x-www-form-urlencoded"


# --------------------------------------------------------------------------- HTTP


@dataclass
class Reply:
    """One HTTP response, read whole."""

    status: int
    headers: dict[str, str]
    body: bytes
    cookies: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The body as UTF-8 text."""
        return self.body.decode("utf-8")

    @property
    def location(self) -> str:
        """The redirect target's path."""
        return urlsplit(self.headers.get("location", "")).path


@dataclass
class Call:
    """One request as wrk sends it."""

    method: str
    path: str
    headers: dict[str, str]
    body: str | None = None


Transport = Callable[[Call], Reply]


def http_transport(port: int) -> Transport:
    """Send calls over HTTP to 127.0.0.1:port, one connection each."""

    def send(call: Call) -> Reply:
        conn = http.client.HTTPConnection(HOST, port, timeout=300)
        try:
            conn.request(call.method, call.path, body=call.body, headers=call.headers)
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        headers = {k.lower(): v for k, v in response.getheaders()}
        cookies = response.headers.get_all("Set-Cookie") or []
        return Reply(response.status, headers, body, cookies)

    return send


class Client:
    """A learner's browser, reduced to the session cookie."""

    def __init__(self, transport: Transport) -> None:
        """A client without a session."""
        self.transport = transport
        self.cookie: str | None = None

    def request(
        self, method: str, path: str, fields: list[tuple[str, str]] | None = None
    ) -> Reply:
        """Send one request, keep any new session cookie."""
        headers = self.headers()
        body = None
        if fields is not None:
            body = urlencode(fields)
            headers["Content-Type"] = FORM
        reply = self.transport(Call(method, path, headers, body))
        for header in reply.cookies:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            if "session" in jar:
                self.cookie = jar["session"].value or None
        return reply

    def headers(self) -> dict[str, str]:
        """The headers this client sends (its cookie)."""
        return {"Cookie": f"session={self.cookie}"} if self.cookie else {}

    def expect(
        self,
        method: str,
        path: str,
        status: int,
        fields: list[tuple[str, str]] | None = None,
    ) -> Reply:
        """Send a request and fail loudly on an unexpected status."""
        reply = self.request(method, path, fields)
        if reply.status != status:
            raise RuntimeError(
                f"{method} {path}: expected {status}, got {reply.status}: "
                f"{reply.body[:300]!r}"
            )
        return reply


@dataclass
class Form:
    """An HTML form as a browser would submit it."""

    attrs: dict[str, str]
    inputs: list[dict[str, str]] = field(default_factory=list)
    selects: dict[str, list[str]] = field(default_factory=dict)

    def filled(self) -> list[tuple[str, str]]:
        """Fields a learner would send: hidden values, first choices, typed text."""
        values: dict[str, list[str]] = {}
        for item in self.inputs:
            name, kind = item.get("name"), item.get("type", "text")
            if not name or kind in ("submit", "button"):
                continue
            if kind in ("radio", "checkbox"):
                values.setdefault(name, [item.get("value", "on")])
            elif kind == "hidden":
                values[name] = [item.get("value", "")]
            elif item.get("inputmode") == "decimal":
                values[name] = ["1"]  # a number box (numeric questions)
            else:
                values[name] = ["answer"]
        for name, options in self.selects.items():
            values[name] = [next((o for o in options if o), "")]
        return [(name, value) for name, many in values.items() for value in many]


class FormParser(HTMLParser):
    """Collects the forms of a page: inputs, selects and their options."""

    def __init__(self) -> None:
        """An empty parser."""
        super().__init__()
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record form, input, select and option tags."""
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(values))
        elif not self.forms:
            return
        elif tag == "input":
            self.forms[-1].inputs.append(values)
        elif tag == "select":
            self._select = values.get("name", "")
            self.forms[-1].selects[self._select] = []
        elif tag == "option" and self._select is not None:
            options = self.forms[-1].selects[self._select]
            if "selected" in values:  # a preset choice (ordering's positions) first
                options.insert(0, values.get("value", ""))
            else:
                options.append(values.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        """Close a select."""
        if tag == "select":
            self._select = None


def forms_of(html: str) -> list[Form]:
    """The forms of a page."""
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def one_form(html: str, css_class: str | None = None) -> Form:
    """The page's form (with the given class, when several)."""
    forms = forms_of(html)
    if css_class:
        forms = [f for f in forms if css_class in f.attrs.get("class", "").split()]
    if not forms:
        raise RuntimeError(f"no form{' .' + css_class if css_class else ''} found")
    return forms[0]


# ---------------------------------------------------------------- the scenario


@dataclass
class Target:
    """A measured page: the requests wrk rotates through and what they return."""

    name: str
    label: str
    calls: list[Call]
    status: int = 0
    content_type: str = ""
    sizes: list[int] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        """The body size (the largest, when the calls differ by a byte or two)."""
        return max(self.sizes, default=0)


def start_attempt(client: Client, types: list[str]) -> str:
    """Start a 20-question exam from the quiz builder; return the attempt id."""
    form = one_form(client.expect("GET", "/build", 200).text, "builder")
    token = next(i["value"] for i in form.inputs if i.get("name") == "csrf_token")
    fields = [
        ("csrf_token", token),
        ("mode", "exam"),
        ("count", str(ATTEMPT_SIZE)),
        *(("types", t) for t in types),
    ]
    reply = client.expect("POST", "/build", 302, fields)
    match = re.fullmatch(r"/attempts/([^/]+)", reply.location)
    if not match:
        raise RuntimeError(f"builder redirected to {reply.location!r}")
    return match.group(1)


def answer(client: Client, attempt_id: str, number: int) -> list[tuple[str, str]]:
    """Answer one question (first option, first match, typed text); the fields sent."""
    path = f"/attempts/{attempt_id}/q/{number}"
    form = one_form(client.expect("GET", path, 200).text, "answer-form")
    fields = form.filled()
    client.expect("POST", path, 302, fields)
    return fields


def finished_attempt(client: Client) -> str:
    """An exam of all question types, every question answered, then finished."""
    attempt_id = start_attempt(client, [])
    for number in range(1, ATTEMPT_SIZE + 1):
        answer(client, attempt_id, number)
    path = f"/attempts/{attempt_id}/finish"
    form = one_form(client.expect("GET", path, 200).text)
    client.expect("POST", path, 302, form.filled())
    return attempt_id


def build_targets(transport: Transport, posters: int) -> list[Target]:
    """Create learners and attempts through the running app; the pages to measure.

    - catalogue: GET / as a returning learner (one finished attempt, one open);
    - question: GET q/1 of an open single-choice exam attempt (the form);
    - answer: POST of the stored answer to q/1 of `posters` learners' exam attempts
      (each learner its own; a re-post stores nothing and redirects to q/2);
    - results: GET the results of a finished 20-question exam of all types;
    - deck: GET /decks/bank.apkg (anonymous);
    - study: GET /study of a learner with a study queue (the finished exam's reviews);
    - rating: POST of a rating already stored (a double click: a no-op redirect).
    """
    learner = Client(transport)
    results_id = finished_attempt(learner)
    question_id = start_attempt(learner, ["single_choice"])
    own = learner.headers()
    post_calls = []
    for _ in range(posters):
        poster = Client(transport)
        attempt_id = start_attempt(poster, ["single_choice"])
        fields = answer(poster, attempt_id, 1)
        headers = {**poster.headers(), "Content-Type": FORM}
        path = f"/attempts/{attempt_id}/q/1"
        post_calls.append(Call("POST", path, headers, urlencode(fields)))
    rating_calls = []
    for _ in range(posters):
        rater = Client(transport)
        shown = one_form(rater.expect("GET", "/study", 200).text, "answer-form")
        page = rater.expect("POST", "/study/answer", 200, shown.filled()).text
        fields = [*one_form(page, "rating-form").filled(), ("rating", "3")]
        rater.expect("POST", "/study/rate", 303, fields)
        headers = {**rater.headers(), "Content-Type": FORM}
        rating_calls.append(Call("POST", "/study/rate", headers, urlencode(fields)))
    return [
        Target("catalogue", "catalogue GET /", [Call("GET", "/", own)]),
        Target(
            "question",
            "question GET /attempts/<id>/q/1",
            [Call("GET", f"/attempts/{question_id}/q/1", own)],
        ),
        Target("answer", "answer POST /attempts/<id>/q/1", post_calls),
        Target(
            "results",
            "results GET /attempts/<id>/results",
            [Call("GET", f"/attempts/{results_id}/results", own)],
        ),
        Target(
            "deck", "deck GET /decks/bank.apkg", [Call("GET", "/decks/bank.apkg", {})]
        ),
        Target("study", "study GET /study", [Call("GET", "/study", own)]),
        Target("rating", "rating POST /study/rate (replayed)", rating_calls),
    ]


def measure_sizes(transport: Transport, targets: list[Target]) -> None:
    """Send every call once: status, body size, type and redirect target."""
    for target in targets:
        for call in target.calls:
            reply = transport(call)
            kind = reply.headers.get("content-type", "")
            if target.status and (reply.status, kind) != (
                target.status,
                target.content_type,
            ):
                raise RuntimeError(f"{target.name}: calls answer differently")
            if reply.status >= 400:
                raise RuntimeError(f"{target.name}: {call.path} -> {reply.status}")
            target.status, target.content_type = reply.status, kind
            target.sizes.append(len(reply.body))
            target.locations.append(reply.location)


def bare_spec(targets: list[Target]) -> dict[str, Any]:
    """What the bare app must answer: each call's exact status, size and type."""
    pages = []
    for target in targets:
        rows = zip(target.calls, target.sizes, target.locations, strict=True)
        for call, size, location in rows:
            pages.append(
                {
                    "method": call.method,
                    "path": call.path,
                    "status": target.status,
                    "size": size,
                    "content_type": target.content_type,
                    "location": location,
                }
            )
    return {"pages": pages}


def check_bare(spec: dict[str, Any], transport: Transport) -> None:
    """The bare app answers each call with the real page's status, size and type."""
    for page in spec["pages"]:
        call = Call(page["method"], page["path"], {"Content-Type": FORM}, "x=1")
        if page["method"] == "GET":
            call = Call("GET", page["path"], {})
        reply = transport(call)
        got = (reply.status, len(reply.body), reply.headers.get("content-type"))
        want = (page["status"], page["size"], page["content_type"])
        if got != want:
            raise RuntimeError(f"bare app {page['path']}: {got} != {want}")


# ---------------------------------------------------------------------- wrk


@dataclass
class Measurement:
    """One wrk run."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: dict[str, int]

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


LUA = """-- generated by benchmarks/web.py: rotate through fixed requests
local calls = {%(calls)s}
local formatted = {}
local next_call = 0

function init(args)
  for i, c in ipairs(calls) do
    formatted[i] = wrk.format(c[1], c[2], c[3], c[4])
  end
end

function request()
  next_call = next_call %% #formatted + 1
  return formatted[next_call]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"p50_us\\": %%d, " ..
    "\\"p99_us\\": %%d, \\"connect\\": %%d, \\"read\\": %%d, \\"write\\": %%d, " ..
    "\\"status\\": %%d, \\"timeout\\": %%d}\\n",
    summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def lua_string(text: str) -> str:
    """A Lua string literal for ASCII text (decimal escapes for anything unusual)."""
    safe = re.compile(r"[A-Za-z0-9 /_.=&%:;,+*()\[\]@!?~-]")
    return '"' + "".join(c if safe.fullmatch(c) else f"\\{ord(c)}" for c in text) + '"'


def lua_script(calls: list[Call]) -> str:
    """A wrk script sending the calls in turn on every connection."""
    rows = []
    for call in calls:
        headers = ", ".join(
            f"[{lua_string(k)}] = {lua_string(v)}" for k, v in call.headers.items()
        )
        body = lua_string(call.body) if call.body is not None else "nil"
        rows.append(
            f"{{{lua_string(call.method)}, {lua_string(call.path)}, "
            f"{{{headers}}}, {body}}}"
        )
    return LUA % {"calls": ",\n  ".join(rows)}


def run_wrk(
    args: argparse.Namespace, port: int, script: Path, seconds: int
) -> Measurement:
    """Drive 127.0.0.1:port with wrk for `seconds`; parse the script's summary."""
    command = [
        args.wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        f"--timeout={args.timeout}s",
        "-s",
        str(script),
        f"http://{HOST}:{port}",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 120
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary: {done.stdout}{done.stderr}")
    data = json.loads(line[len("BENCH ") :])
    return Measurement(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors={
            k: data[k]
            for k in ("connect", "read", "write", "status", "timeout")
            if data[k]
        },
    )


# ------------------------------------------------------------------ processes


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def server_env(database_url: str) -> dict[str, str]:
    """The environment the app's processes get: production settings, our database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CONTENT_DIR", "FLASK_DEBUG")
    }
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(48),
        QUIZAPP_ENV="production",
        SESSION_COOKIE_SECURE="0",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@contextlib.contextmanager
def gunicorn(
    app: str, port: int, env: dict[str, str], args: argparse.Namespace, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Serve `app` with the benchmark's gunicorn settings; stop it afterwards."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        f"--workers={args.workers}",
        "--worker-class=sync",
        f"--bind={HOST}:{port}",
        f"--pythonpath={BENCH_DIR}",
        f"--timeout={args.gunicorn_timeout}",
        "--log-level=warning",
        app,
    ]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
        )
    try:
        wait_ready(proc, port, log)
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a gunicorn master (it stops its workers) and wait for it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    # Workers of a master that died early: its process group is ours alone.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)


def wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Wait until the server answers HTTP (any status), or fail with its log."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            http_transport(port)(Call("GET", "/healthz", {}))
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not start:\n{log.read_text()[-3000:]}")


def flask_cli(env: dict[str, str], *argv: str) -> tuple[float, str]:
    """Run `flask --app quizapp ...`; the wall time and its output."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "quizapp", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"flask {' '.join(argv)} failed:\n{done.stderr[-3000:]}")
    return elapsed, done.stdout


@contextlib.contextmanager
def database(
    engine: str, args: argparse.Namespace, workdir: Path, label: str
) -> Iterator[str]:
    """A fresh, empty database for one run: a SQLite file, or our PostgreSQL db."""
    if engine == "sqlite":
        yield f"sqlite:///{workdir / f'{label}.sqlite'}"
        return
    import psycopg
    from psycopg import sql

    name = args.pg_database
    if name in PROTECTED_DATABASES:
        raise SystemExit(f"refusing to use the {name!r} database for benchmarks")
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(name)
    )
    with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as admin:
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{args.pg_url}/{name}"
    finally:
        if not args.keep_database:
            with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as admin:
                admin.execute(drop)


# ------------------------------------------------------------------ one run


@dataclass
class Row:
    """One page's outcome: app and bare medians over the rounds."""

    target: Target
    app: list[Measurement]
    bare: list[Measurement]
    seconds: int = 0

    @property
    def app_rps(self) -> float:
        """Median app requests/s."""
        return statistics.median(m.rps for m in self.app)

    @property
    def bare_rps(self) -> float:
        """Median bare requests/s."""
        return statistics.median(m.rps for m in self.bare)

    @property
    def ratio(self) -> float:
        """App requests/s as a share of bare Flask's."""
        return self.app_rps / self.bare_rps if self.bare_rps else 0.0

    def latency(self, side: str, which: str) -> float:
        """Median p50 or p99 (ms) of one side."""
        runs = self.app if side == "app" else self.bare
        return statistics.median(getattr(m, which) for m in runs)

    @property
    def errors(self) -> int:
        """wrk errors (non-2xx/3xx, timeouts, socket errors) across all runs."""
        return sum(sum(m.errors.values()) for m in [*self.app, *self.bare])


@dataclass
class Run:
    """One engine and bank: load times and rows."""

    engine: str
    bank: str
    summary: str
    load_s: float
    reload_s: float
    load_output: str
    reload_output: str
    rows: list[Row]
    load_before: str
    load_after: str
    seconds: int


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def warm_up(args: argparse.Namespace, port: int, target: Target, script: Path) -> float:
    """Every worker serves the page (deck caches, compiled queries), then wrk.

    Returns the time one request then takes on its own, in seconds.
    """
    send = http_transport(port)
    burst = 2 * args.workers
    with ThreadPoolExecutor(burst) as pool:
        replies = list(pool.map(send, [target.calls[0]] * burst))
    if any(r.status != target.status for r in replies):
        raise RuntimeError(f"{target.name}: warm-up got {[r.status for r in replies]}")
    if args.warmup > 0:
        run_wrk(args, port, script, args.warmup)
    settle(args, port)
    started = time.perf_counter()
    send(target.calls[0])
    return time.perf_counter() - started


def duration_for(args: argparse.Namespace, single: float) -> int:
    """wrk seconds for a page: -d, or 10 single requests' time (at most 30 s)."""
    return max(args.duration, min(MAX_DURATION, math.ceil(10 * single)))


def settle(args: argparse.Namespace, port: int, patience: float = 300) -> None:
    """Wait until the server has worked off what wrk left queued when it stopped.

    wrk stops at its deadline, but requests already sent (or waiting in the listen
    queue) are still served; a slow page would then eat into the next measurement.
    Settled: twice in a row, one probe per worker, all answered within 0.5 s.
    """
    send = http_transport(port)
    probe = Call("GET", "/healthz", {})
    deadline = time.monotonic() + patience
    quick = 0
    with ThreadPoolExecutor(args.workers) as pool:
        while quick < 2 and time.monotonic() < deadline:
            started = time.monotonic()
            list(pool.map(lambda _: send(probe), range(args.workers)))
            quick = quick + 1 if time.monotonic() - started < 0.5 else 0
            time.sleep(0.1)


def bench_one(
    args: argparse.Namespace, engine: str, bank: str, content: Path, workdir: Path
) -> Run:
    """Load one bank into one engine and measure every page against bare Flask."""
    label = f"{engine}-{bank}"
    log = workdir / f"{label}.log"
    print(f"\n== {engine}, {bank} bank ==", flush=True)
    with database(engine, args, workdir, label) as url:
        env = server_env(url)
        flask_cli(env, "db", "upgrade")
        load_s, load_out = flask_cli(env, "content", "load", str(content))
        reload_s, reload_out = flask_cli(env, "content", "load", str(content))
        if "No changes" not in reload_out:
            raise RuntimeError(f"the reload wrote something: {reload_out}")
        summary = load_out.splitlines()[0]
        print(f"{summary}\ncontent load {load_s:.1f} s, reload {reload_s:.1f} s")
        app_port, bare_port = free_port(), free_port()
        with gunicorn("app_wsgi:app", app_port, env, args, log):
            to_app = http_transport(app_port)
            targets = [
                t
                for t in build_targets(to_app, args.connections)
                if t.name in args.pages
            ]
            measure_sizes(to_app, targets)
            spec = bare_spec(targets)
            spec_path = workdir / f"{label}-bare.json"
            spec_path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
            bare_env = {**env, "BARE_APP_SPEC": str(spec_path)}
            with gunicorn("bare_app:create_app()", bare_port, bare_env, args, log):
                check_bare(spec, http_transport(bare_port))
                load_before = load_average()
                rows = measure(args, targets, app_port, bare_port, workdir, label)
                load_after = load_average()
    return Run(
        engine,
        bank,
        summary,
        load_s,
        reload_s,
        load_out.strip(),
        reload_out.strip(),
        rows,
        load_before,
        load_after,
        args.duration,
    )


def measure(
    args: argparse.Namespace,
    targets: list[Target],
    app_port: int,
    bare_port: int,
    workdir: Path,
    label: str,
) -> list[Row]:
    """Per page: warm both up, then alternate app and bare for the given rounds."""
    rows = []
    for target in targets:
        script = workdir / f"{label}-{target.name}.lua"
        script.write_text(lua_script(target.calls), encoding="utf-8")
        single = warm_up(args, app_port, target, script)
        warm_up(args, bare_port, target, script)
        seconds = duration_for(args, single)
        row = Row(target, [], [], seconds)
        rows.append(row)
        for round_number in range(args.rounds):
            sides = [("app", app_port, row.app), ("bare", bare_port, row.bare)]
            if round_number % 2:
                sides.reverse()
            for side, port, into in sides:
                result = run_wrk(args, port, script, seconds)
                settle(args, port)
                into.append(result)
                note = f" errors {result.errors}" if result.errors else ""
                print(
                    f"  {row.target.name:<9} {side:<4} {result.rps:8.1f} req/s "
                    f"p50 {result.p50_ms:7.1f} ms p99 {result.p99_ms:7.1f} ms{note}",
                    flush=True,
                )
    return rows


# ------------------------------------------------------------------ report


def kib(size: int) -> str:
    """A byte count for people."""
    return f"{size / 1024:.1f} KiB" if size >= 1024 else f"{size} B"


def table(run: Run) -> str:
    """The Markdown table of one engine and bank."""
    lines = [
        f"### {run.engine}, {run.bank} bank",
        "",
        f"{run.summary}  ",
        f"Load average before/after measuring (the benchmark's own processes "
        f"included): {run.load_before} / {run.load_after}",
        "",
        "| page | app req/s | bare req/s | ratio | goal | p50 app / bare "
        "| p99 app / bare | body |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for row in run.rows:
        goal = GOALS.get(row.target.name)
        verdict = "-"
        if goal is not None:
            verdict = f">= {goal:.1f} {'met' if row.ratio >= goal else 'MISSED'}"
        notes = [f"wrk {row.seconds} s"] if row.seconds != run.seconds else []
        if row.errors:
            notes.append(f"{row.errors} wrk errors")
        if not all(m.requests for m in [*row.app, *row.bare]):
            notes.append("a run finished no request")
        note = f" ({', '.join(notes)})" if notes else ""
        lines.append(
            f"| {row.target.label}{note} | {row.app_rps:.1f} | {row.bare_rps:.1f} "
            f"| {row.ratio:.2f} | {verdict} "
            f"| {row.latency('app', 'p50_ms'):.1f} / "
            f"{row.latency('bare', 'p50_ms'):.1f} ms "
            f"| {row.latency('app', 'p99_ms'):.1f} / "
            f"{row.latency('bare', 'p99_ms'):.1f} ms "
            f"| {kib(row.target.size)} |"
        )
    return "\n".join(lines)


def scale_table(runs: list[Run]) -> str:
    """Per engine: each page's ratio on the synthetic bank vs the real bank."""
    lines = []
    for engine in dict.fromkeys(r.engine for r in runs):
        by_bank = {r.bank: r for r in runs if r.engine == engine}
        real, big = by_bank.get("real"), by_bank.get("synthetic")
        if not real or not big:
            continue
        lines += [
            f"### Scale, {engine}: ratio on the synthetic bank vs the real bank",
            "",
            "| page | ratio real | ratio synthetic | change | within 10% "
            "| app req/s real / synthetic | body real / synthetic |",
            "|---|---:|---:|---:|---|---:|---:|",
        ]
        big_rows = {row.target.name: row for row in big.rows}
        for row in real.rows:
            other = big_rows.get(row.target.name)
            if other is None or not row.ratio or not row.app_rps:
                continue
            change = other.ratio / row.ratio - 1
            app_change = other.app_rps / row.app_rps - 1
            lines.append(
                f"| {row.target.name} | {row.ratio:.2f} | {other.ratio:.2f} "
                f"| {change:+.0%} | {'yes' if change >= -0.10 else 'NO'} "
                f"| {row.app_rps:.0f} / {other.app_rps:.0f} ({app_change:+.0%}) "
                f"| {kib(row.target.size)} / {kib(other.target.size)} |"
            )
        lines.append("")
    return "\n".join(lines)


def load_table(runs: list[Run]) -> str:
    """Content load and no-change reload times."""
    lines = [
        "### Content load (`flask content load`, wall time including start-up)",
        "",
        "| engine | bank | load | no-change reload | reload says |",
        "|---|---|---:|---:|---|",
    ]
    for run in runs:
        said = run.reload_output.splitlines()[-1] if run.reload_output else ""
        lines.append(
            f"| {run.engine} | {run.bank} | {run.load_s:.1f} s "
            f"| {run.reload_s:.1f} s | {said} |"
        )
    return "\n".join(lines)


def code_version() -> tuple[str, str]:
    """A digest of the app's files as they are on disk, and the commit checked out."""
    digest = hashlib.sha256()
    for top in APP_PATHS:
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        head = "no git"
    return digest.hexdigest()[:12], head


def report(
    args: argparse.Namespace,
    runs: list[Run],
    started: datetime,
    load: str,
    versions: tuple[tuple[str, str], tuple[str, str]],
) -> str:
    """The whole Markdown report."""
    (first, head), (last, _) = versions
    code = f"app files digest {first} (checkout {head})"
    if first != last:
        code += f", CHANGED to {last} during the run"
    header = [
        "# Web benchmark results",
        "",
        f"- when: {started:%Y-%m-%d %H:%M} UTC; command: "
        f"`{' '.join(['benchmarks/web.py', *sys.argv[1:]])}`",
        f"- machine: {os.cpu_count()} CPUs, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()} {platform.release()}",
        f"- gunicorn: {args.workers} sync workers on {HOST}; wrk -t{args.threads} "
        f"-c{args.connections} -d{args.duration}s (warm-up {args.warmup}s), "
        f"{args.rounds} round(s), medians",
        f"- load average (1, 5, 15 min) when measuring began: {load}",
        f"- code: {code}",
        "",
    ]
    parts = [*header, *(table(r) + "\n" for r in runs), scale_table(runs)]
    parts.append(load_table(runs))
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------ main


def wait_for_idle(args: argparse.Namespace) -> None:
    """Poll /proc/loadavg until the 1-minute load is below the threshold."""
    deadline = time.monotonic() + args.wait_idle
    while True:
        current = float(load_average().split()[0])
        if current < args.idle_load or time.monotonic() >= deadline:
            print(f"load average {load_average()}", flush=True)
            return
        print(f"waiting for the machine: load {current:.2f}", flush=True)
        time.sleep(15)


def synthetic_bank(target: Path, questions: int, quizzes: int) -> Path:
    """tests/synthetic.py's bank of `questions` questions and `quizzes` quizzes."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    module = importlib.import_module("tests.synthetic")
    return module.write_bank(target, questions, quizzes)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--engine", choices=("sqlite", "postgres", "both"), default="both")
    add(
        "--bank",
        choices=("real", "synthetic", "both"),
        default="both",
        help="content/ and/or the synthetic bank (default: both)",
    )
    add("--questions", type=int, default=10_000, help="synthetic bank size")
    add("--quizzes", type=int, default=500, help="synthetic bank quizzes")
    add("--pages", nargs="+", choices=PAGES, default=list(PAGES))
    add("-t", "--threads", type=int, default=2, help="wrk threads")
    add("-c", "--connections", type=int, default=8, help="wrk connections")
    add("-d", "--duration", type=int, default=5, help="seconds of wrk per page")
    add("--warmup", type=int, default=1, help="seconds of wrk warm-up per page")
    add("--rounds", type=int, default=1, help="app/bare alternations per page")
    add("--timeout", type=int, default=30, help="wrk request timeout, seconds")
    add("--workers", type=int, default=3, help="gunicorn sync workers")
    add("--gunicorn-timeout", type=int, default=120, help="gunicorn --timeout")
    add("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    add(
        "--pg-url",
        default=f"postgresql://postgres@{HOST}:5432",
        help="PostgreSQL server (127.0.0.1 only), without a database name",
    )
    add(
        "--pg-database",
        default="quizbench",
        help="created and dropped for each bank; never 'test'",
    )
    add("--keep-database", action="store_true", help="do not drop it at the end")
    add(
        "--wait-idle",
        type=float,
        default=0.0,
        help="first wait up to this many seconds for the 1-minute load to drop",
    )
    add("--idle-load", type=float, default=1.0, help="... below this")
    add("-o", "--output", type=Path, default=BENCH_DIR / "results" / "latest.md")
    args = parser.parse_args(argv)
    if urlsplit(args.pg_url).hostname not in (HOST, "localhost"):
        parser.error("--pg-url must point at 127.0.0.1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every requested engine and bank; print and write the tables."""
    args = parse_args(argv)
    # A plain `kill` unwinds like Ctrl-C, so every server is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    banks = ["real", "synthetic"] if args.bank == "both" else [args.bank]
    started = datetime.now(UTC)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="quizbench-") as tmp:
        workdir = Path(tmp)
        contents = {"real": ROOT / "content"}
        if "synthetic" in banks:
            contents["synthetic"] = synthetic_bank(
                workdir / "synthetic", args.questions, args.quizzes
            )
        if args.wait_idle:
            wait_for_idle(args)
        load = load_average()
        version = code_version()
        for engine in engines:
            for bank in banks:
                try:
                    run = bench_one(args, engine, bank, contents[bank], workdir)
                except Exception:
                    log = workdir / f"{engine}-{bank}.log"
                    if log.exists():
                        print(f"--- server log ---\n{log.read_text()[-4000:]}")
                    raise
                runs.append(run)
                print("\n" + table(runs[-1]), flush=True)
    versions = (version, code_version())
    if versions[0][0] != versions[1][0]:
        print(f"warning: the app's code changed during the run: {versions}")
    text = report(args, runs, started, load, versions)
    print("\n" + text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
