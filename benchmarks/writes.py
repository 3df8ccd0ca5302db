"""Write-path benchmark: concurrent learners storing answers and ratings over HTTP.

Each of N learner threads (`--learners 8 16 32`), for `--seconds`, alternates two
writes against the app under gunicorn (3 sync workers, production settings, rate
limits raised by app_wsgi.py, real CSRF tokens):

- answer: POST of a NEW question of an exam attempt (GET of the form is not timed;
  after the 20th question a new attempt is started from the builder);
- rate: POST /study/answer for the study card shown, then POST /study/rate with
  Good (both timed; the rate is the write, the answer is graded only).

It reports, per engine and learner count, the throughput of each kind of write and
its p50/p99/max latency. Goal (issue 16): SQLite p99 at most 2x PostgreSQL's at 16
learners and no request over 1 s.

    PYTHONPATH=. .venv/bin/python benchmarks/writes.py --engine both \
        --learners 8 16 32 --seconds 20 --pg-database quizbench_writes
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import web  # noqa: E402  (benchmarks/web.py: HTTP client, gunicorn, databases)

KINDS = ("answer", "study-answer", "rate")


@dataclass
class Samples:
    """Latencies (seconds) of one kind of write, and the failures."""

    times: list[float] = field(default_factory=list)
    errors: int = 0


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[rank]


def timed(
    samples: Samples,
    client: web.Client,
    path: str,
    fields: list[tuple[str, str]],
    statuses: tuple[int, ...],
) -> web.Reply | None:
    """POST `fields` to `path`, record its latency; None on an unexpected status."""
    started = time.perf_counter()
    reply = client.request("POST", path, fields)
    samples.times.append(time.perf_counter() - started)
    if reply.status not in statuses:
        samples.errors += 1
        return None
    return reply


def learner(transport: web.Transport, stop_at: float, out: dict[str, Samples]) -> None:
    """One learner: answer new exam questions and rate study cards until `stop_at`."""
    client = web.Client(transport)
    attempt_id = web.start_attempt(client, [])
    number = 1
    while time.monotonic() < stop_at:
        if number > web.ATTEMPT_SIZE:
            attempt_id, number = web.start_attempt(client, []), 1
        path = f"/attempts/{attempt_id}/q/{number}"
        form = web.one_form(client.expect("GET", path, 200).text, "answer-form")
        timed(out["answer"], client, path, form.filled(), (302, 303))
        number += 1
        page = client.expect("GET", "/study", 200).text
        forms = [
            f
            for f in web.forms_of(page)
            if "answer-form" in f.attrs.get("class", "").split()
        ]
        if not forms:
            continue  # nothing due (not expected with a whole bank of new cards)
        reply = timed(
            out["study-answer"], client, "/study/answer", forms[0].filled(), (200,)
        )
        if reply is None:
            continue
        rating = web.one_form(reply.text, "rating-form")
        fields = [*rating.filled(), ("rating", "3")]
        timed(out["rate"], client, "/study/rate", fields, (302, 303))


def run_level(
    port: int, learners: int, seconds: float
) -> tuple[dict[str, Samples], float]:
    """`learners` threads for `seconds`; the samples of each kind and the wall time."""
    out = [{kind: Samples() for kind in KINDS} for _ in range(learners)]
    transport = web.http_transport(port)
    stop_at = time.monotonic() + seconds
    threads = [
        threading.Thread(target=learner, args=(transport, stop_at, out[i]), daemon=True)
        for i in range(learners)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    merged = {kind: Samples() for kind in KINDS}
    for one in out:
        for kind in KINDS:
            merged[kind].times += one[kind].times
            merged[kind].errors += one[kind].errors
    return merged, wall


def row(engine: str, learners: int, kind: str, samples: Samples, wall: float) -> str:
    """One Markdown table row."""
    t = samples.times
    return (
        f"| {engine} | {learners} | {kind} | {len(t) / wall:.1f} | "
        f"{percentile(t, 0.5) * 1000:.0f} | {percentile(t, 0.99) * 1000:.0f} | "
        f"{max(t, default=0) * 1000:.0f} | {samples.errors} |"
    )


def bench_engine(args: argparse.Namespace, engine: str, workdir: Path) -> list[str]:
    """Fresh database, content loaded, gunicorn; every learner count in turn."""
    rows: list[str] = []
    for learners in args.learners:
        label = f"{engine}-{learners}"
        with web.database(engine, args, workdir, label) as url:
            env = web.server_env(url)
            if args.sqlite_synchronous and engine == "sqlite":
                env["SQLITE_SYNCHRONOUS"] = args.sqlite_synchronous
            web.flask_cli(env, "db", "upgrade")
            web.flask_cli(env, "content", "load", str(web.ROOT / "content"))
            port = web.free_port()
            log = workdir / f"{label}.log"
            with web.gunicorn("app_wsgi:app", port, env, args, log):
                merged, wall = run_level(port, learners, args.seconds)
        for kind in KINDS:
            rows.append(row(engine, learners, kind, merged[kind], wall))
            print(rows[-1], flush=True)
    return rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--engine", choices=("sqlite", "postgres", "both"), default="both")
    add("--learners", type=int, nargs="+", default=[8, 16, 32])
    add("--seconds", type=float, default=20.0, help="seconds per learner count")
    add("--workers", type=int, default=3, help="gunicorn sync workers")
    add("--gunicorn-timeout", type=int, default=120, help="gunicorn --timeout")
    add("--pg-url", default=f"postgresql://postgres@{web.HOST}:5432")
    add("--pg-database", default="quizbench_writes", help="never 'test'")
    add("--keep-database", action="store_true")
    add(
        "--sqlite-synchronous",
        default="",
        help="SQLITE_SYNCHRONOUS for the server (FULL or NORMAL; default: the app's)",
    )
    return parser.parse_args(argv)


HEADER = (
    "| engine | learners | write | req/s | p50 ms | p99 ms | max ms | errors |\n"
    "|---|---|---|---|---|---|---|---|"
)


def main(argv: list[str] | None = None) -> int:
    """Run every engine and learner count; print one table."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    print(f"load average: {web.load_average()}")
    print(HEADER, flush=True)
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="quizbench-writes-") as tmp:
        for engine in engines:
            rows += bench_engine(args, engine, Path(tmp))
    print("\n" + HEADER + "\n" + "\n".join(rows))
    print(f"load average: {web.load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
