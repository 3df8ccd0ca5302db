"""Long-history benchmark: the pages beside a big synthetic history, against none.

For each engine: two fresh databases with the same synthetic bank (tests/synthetic.py,
2,000 questions, 7 quizzes), one left empty and one given a history of N learners,
each with a finished exam of `--responses` answers and `--cards` study cards with
`--logs` review-log rows each (PostgreSQL default: 100,000 learners, 1,000,000
responses, 2,000,000 cards, 10,000,000 review-log rows; SQLite a tenth). The history
is written with INSERT ... SELECT on the server, then ANALYZEd. Then, per database:

- in process, one new learner goes through the pages of the query-budget test
  (tests/test_query_budget.py: catalogue, question, answer, results, study, study
  answer, rating, progress): statements per page, and every query's plan (PostgreSQL:
  EXPLAIN ANALYZE with the planner's own choices; SQLite: EXPLAIN QUERY PLAN), with
  any full scan of a history table flagged;
- under gunicorn (3 sync workers, production settings, as web.py), wrk against the
  catalogue, question, results, study and progress pages of a learner made through
  HTTP, empty and long history alternating for `--rounds` rounds (medians).

Goal (issue 16): the same statement counts, every page within 20% of its
empty-history throughput (ratio >= 0.80), no full scan of a history table.

    PYTHONPATH=. .venv/bin/python benchmarks/history.py --engine both
    PYTHONPATH=. .venv/bin/python benchmarks/history.py --engine postgres \
        --learners 20000 --rounds 1
"""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
for path in (BENCH_DIR, ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import web  # noqa: E402  (benchmarks/web.py: HTTP client, gunicorn, wrk, databases)

PAGES = ("catalogue", "question", "results", "study", "progress")
GOAL = 0.80
LABELS = ("empty", "long")
# The tables generate() writes, in its order (what a --reuse run counts).
WRITTEN = (
    "learner",
    "attempt",
    "response",
    "study_settings",
    "study_card",
    "review_log",
)
SHAPES = 10  # distinct exam layouts and card sets, learner n using shape n % SHAPES
DAYS = 366  # a year of timestamps, the last 65 days in the future (due dates)
PAST = DAYS - 66


# ---------------------------------------------------------------- the history


def generate(url: str, learners: int, responses: int, cards: int, logs: int) -> dict:
    """Write the synthetic history into the loaded database at `url`; row counts."""
    from sqlalchemy import (
        JSON,
        Column,
        DateTime,
        Integer,
        MetaData,
        String,
        Table,
        create_engine,
        func,
        select,
        text,
    )

    from quizapp.config import normalise_database_url
    from quizapp.models import Question, Quiz

    engine = create_engine(normalise_database_url(url))
    meta = MetaData()
    temp = {"prefixes": ["TEMPORARY"]}
    nums = Table("bench_nums", meta, Column("n", Integer, primary_key=True), **temp)
    days = Table(
        "bench_days",
        meta,
        Column("d", Integer, primary_key=True),
        Column("at", DateTime),
        **temp,
    )

    def picks(name: str, index: str) -> Table:
        # Which questions shape k uses: (k, index, question id) rows.
        return Table(
            name,
            meta,
            Column("k", Integer),
            Column(index, Integer),
            Column("question_id", String(64)),
            **temp,
        )

    shape, deck = picks("bench_shape", "i"), picks("bench_deck", "j")
    layout = Table(
        "bench_layout",
        meta,
        Column("k", Integer, primary_key=True),
        Column("layout", JSON),
        Column("answer", JSON),
        **temp,
    )
    started = time.perf_counter()
    with engine.begin() as conn:
        ids = conn.scalars(
            select(Question.id).where(Question.retired.is_(False)).order_by(Question.id)
        ).all()
        if len(ids) < max(responses, cards) * 2:
            raise SystemExit(f"the bank has {len(ids)} questions: too few")
        quizzes = conn.scalars(select(Quiz.id).order_by(Quiz.id)).all()
        if not quizzes or quizzes != list(range(quizzes[0], quizzes[0] + len(quizzes))):
            raise SystemExit(f"expected a fresh bank's quiz ids 1..n, got {quizzes}")
        meta.create_all(conn)
        conn.execute(nums.insert(), [{"n": n} for n in range(max(learners, logs, 1))])
        now = datetime.now(UTC).replace(tzinfo=None)
        conn.execute(
            days.insert(),
            [
                {"d": d, "at": now - timedelta(days=PAST + 1 - d, hours=d % 24)}
                for d in range(DAYS)
            ],
        )
        conn.execute(
            shape.insert(),
            [
                {"k": k, "i": i, "question_id": ids[(k * 37 + i) % len(ids)]}
                for k in range(SHAPES)
                for i in range(responses)
            ],
        )
        conn.execute(
            deck.insert(),
            [
                {"k": k, "j": j, "question_id": ids[(k * 53 + j) % len(ids)]}
                for k in range(SHAPES)
                for j in range(cards)
            ],
        )
        conn.execute(
            layout.insert(),
            [
                {
                    "k": k,
                    "layout": [
                        {"question": ids[(k * 37 + i) % len(ids)], "order": []}
                        for i in range(responses)
                    ],
                    "answer": {},
                }
                for k in range(SHAPES)
            ],
        )
        steps = [
            (
                "learner",
                "INSERT INTO learner (id, created_at) "
                "SELECT 'h' || n, bench_days.at FROM bench_nums "
                "JOIN bench_days ON bench_days.d = n % :past WHERE n < :learners",
            ),
            (
                "attempt",
                "INSERT INTO attempt (id, learner_id, quiz_id, title, mode, layout, "
                "started_at, finished_at, score) "
                # Two attempts in three are of a catalogue quiz, one of the builder's.
                "SELECT 'ha' || n, 'h' || n, "
                "CASE WHEN n % 3 = 0 THEN NULL ELSE :first_quiz + n % :quizzes END, "
                "'History', 'exam', "
                "bench_layout.layout, bench_days.at, bench_days.at, 0.5 "
                "FROM bench_nums JOIN bench_layout ON bench_layout.k = n % :shapes "
                "JOIN bench_days ON bench_days.d = n % :past WHERE n < :learners",
            ),
            (
                "response",
                "INSERT INTO response (attempt_id, question_id, position, answer, "
                "score, version, answered_at) "
                "SELECT 'ha' || n, bench_shape.question_id, bench_shape.i + 1, "
                "bench_layout.answer, (n + bench_shape.i) % 2, 1, bench_days.at "
                "FROM bench_nums JOIN bench_shape ON bench_shape.k = n % :shapes "
                "JOIN bench_layout ON bench_layout.k = n % :shapes "
                "JOIN bench_days ON bench_days.d = n % :past WHERE n < :learners",
            ),
            (
                # Every tenth learner saved study settings (the others use defaults).
                "study_settings",
                "INSERT INTO study_settings (learner_id, new_per_day, "
                "max_reviews_per_day, desired_retention, time_zone, "
                "day_starts_at_hour) "
                "SELECT 'h' || n, 20, 200, 0.9, 'Europe/Berlin', 4 FROM bench_nums "
                "WHERE n < :learners AND n % 10 = 0",
            ),
            (
                "study_card",
                "INSERT INTO study_card (learner_id, question_id, state, step, "
                "stability, difficulty, due, last_review, reps, lapses) "
                "SELECT 'h' || n, bench_deck.question_id, 2, CAST(NULL AS INTEGER), "
                "1.0 + (n + bench_deck.j) % 50, 1.0 + (n + bench_deck.j) % 9, "
                "due.at, last.at, :logs, 0 "
                "FROM bench_nums JOIN bench_deck ON bench_deck.k = n % :shapes "
                "JOIN bench_days due ON due.d = (n * 7 + bench_deck.j) % :days "
                "JOIN bench_days last ON last.d = (n + bench_deck.j) % :past "
                "WHERE n < :learners",
            ),
            (
                "review_log",
                "INSERT INTO review_log (card_id, learner_id, reviewed_at, rating, "
                "source, state_before, before, state_after, stability_after, "
                "difficulty_after, interval_seconds, duration_ms) "
                "SELECT c.id, c.learner_id, bench_days.at, 1 + (c.id + n) % 4, "
                "'study', 2, CAST(NULL AS JSON), 2, c.stability, c.difficulty, "
                "86400 * (1 + n), CAST(NULL AS INTEGER) "
                "FROM study_card c JOIN bench_nums ON n < :logs "
                "JOIN bench_days ON bench_days.d = (c.id + n * 13) % :past",
            ),
        ]
        # Learner n takes exam layout and card set n % SHAPES; timestamps come from
        # the days table, the first PAST of them in the past.
        sizes = {
            "learners": learners,
            "logs": logs,
            "shapes": SHAPES,
            "days": DAYS,
            "past": PAST,
            "first_quiz": quizzes[0],
            "quizzes": len(quizzes),
        }
        for table, sql in steps:
            step = time.perf_counter()
            print(f"  writing {table} ...", end="", flush=True)
            conn.execute(text(sql), sizes)
            print(f" {time.perf_counter() - step:.1f} s", flush=True)
        meta.drop_all(conn)
        counts = {
            table: conn.scalar(select(func.count()).select_from(text(table)))
            for table, _ in steps
        }
    step = time.perf_counter()
    print("  ANALYZE ...", end="", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        postgres = engine.name == "postgresql"
        conn.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))
    print(f" {time.perf_counter() - step:.1f} s", flush=True)
    engine.dispose()
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


def existing(url: str) -> dict:
    """Row counts of a history kept by an earlier run (--keep-database)."""
    from sqlalchemy import create_engine, func, select, text

    from quizapp.config import normalise_database_url

    engine = create_engine(normalise_database_url(url))
    with engine.connect() as conn:
        counts = {
            table: conn.scalar(select(func.count()).select_from(text(table)))
            for table in WRITTEN
        }
    engine.dispose()
    if not counts["review_log"]:
        raise SystemExit("--reuse: the kept database has no history; run without it")
    return {**counts, "seconds": 0.0}


# ---------------------------------------------------------------- in process


def statements_and_plans(url: str, bank: Path) -> tuple[dict[str, int], dict]:
    """One new learner through the query-budget pages: counts and query plans."""
    from quizapp import create_app
    from tests.test_query_budget import page_statements, query_plans

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "history-benchmark",
            "CONTENT_DIR": str(bank),
        }
    )
    pages = page_statements(app)
    counts = {page: len(run) for page, run in pages.items()}
    plans = {
        page: query_plans(app, run, forbid_seq_scans=False, analyze=True)
        for page, run in pages.items()
    }
    with app.app_context():
        from quizapp.extensions import db

        db.engine.dispose()
    return counts, plans


# ---------------------------------------------------------------- over HTTP


@dataclass
class Side:
    """One database under gunicorn: its port and its measured targets."""

    name: str
    port: int
    targets: dict[str, web.Target] = field(default_factory=dict)
    runs: dict[str, list[web.Measurement]] = field(default_factory=dict)


def targets_of(port: int) -> dict[str, web.Target]:
    """web.py's learner and pages, plus the progress page of the same learner."""
    transport = web.http_transport(port)
    built = {t.name: t for t in web.build_targets(transport, 1)}
    own = built["catalogue"].calls[0].headers
    built["progress"] = web.Target(
        "progress", "progress GET /progress", [web.Call("GET", "/progress", own)]
    )
    chosen = [built[name] for name in PAGES]
    web.measure_sizes(transport, chosen)
    return {t.name: t for t in chosen}


def measure(args: argparse.Namespace, sides: list[Side], workdir: Path) -> None:
    """Per page: warm both up, then alternate empty and long for the rounds."""
    for page in PAGES:
        scripts = {}
        for side in sides:
            script = workdir / f"{side.name}-{page}.lua"
            script.write_text(web.lua_script(side.targets[page].calls), "utf-8")
            scripts[side.name] = script
            web.warm_up(args, side.port, side.targets[page], script)
            side.runs[page] = []
        for round_number in range(args.rounds):
            order = sides if round_number % 2 == 0 else sides[::-1]
            for side in order:
                result = web.run_wrk(args, side.port, scripts[side.name], args.duration)
                web.settle(args, side.port)
                side.runs[page].append(result)
                note = f" errors {result.errors}" if result.errors else ""
                print(
                    f"  {page:<9} {side.name:<5} {result.rps:8.1f} req/s "
                    f"p50 {result.p50_ms:7.1f} ms p99 {result.p99_ms:7.1f} ms{note}",
                    flush=True,
                )


# ---------------------------------------------------------------- one engine


@dataclass
class EngineRun:
    """What one engine's run found."""

    engine: str
    counts: dict[str, int]
    statements: dict[str, dict[str, int]]
    plans: dict[str, list[tuple[str, str]]]
    sides: list[Side]
    load: tuple[str, str]


@contextlib.contextmanager
def two_databases(engine: str, args: argparse.Namespace, workdir: Path):
    """An empty and a long-history database, both fresh."""
    if args.reuse:
        yield [f"{args.pg_url}/{args.pg_database}_{label}" for label in LABELS]
        return
    with contextlib.ExitStack() as stack:
        urls = []
        for label in LABELS:
            named = argparse.Namespace(**vars(args))
            named.pg_database = f"{args.pg_database}_{label}"
            urls.append(
                stack.enter_context(web.database(engine, named, workdir, label))
            )
        yield urls


def run_engine(
    args: argparse.Namespace, engine: str, bank: Path, workdir: Path
) -> EngineRun:
    """Both databases of one engine: load, generate, count, plan, measure."""
    print(f"\n== {engine} ==", flush=True)
    learners = args.learners if engine == "postgres" else args.sqlite_learners
    with two_databases(engine, args, workdir) as (empty_url, long_url):
        if args.reuse:
            counts = existing(long_url)
        else:
            for url in (empty_url, long_url):
                env = web.server_env(url)
                web.flask_cli(env, "db", "upgrade")
                web.flask_cli(env, "content", "load", str(bank))
            print(
                f"history: {learners:,} learners x ({args.responses} responses, "
                f"{args.cards} cards x {args.logs} logs)",
                flush=True,
            )
            counts = generate(long_url, learners, args.responses, args.cards, args.logs)
        print(f"  rows: {counts}", flush=True)
        statements, plans = {}, {}
        for label, url in (("empty", empty_url), ("long", long_url)):
            statements[label], planned = statements_and_plans(url, bank)
            if label == "long":
                plans = planned
        sides: list[Side] = []
        with contextlib.ExitStack() as stack:
            for label, url in (("empty", empty_url), ("long", long_url)):
                port = web.free_port()
                log = workdir / f"{engine}-{label}.log"
                stack.enter_context(
                    web.gunicorn("app_wsgi:app", port, web.server_env(url), args, log)
                )
                sides.append(Side(label, port, targets_of(port)))
            before = web.load_average()
            measure(args, sides, workdir)
            after = web.load_average()
    return EngineRun(engine, counts, statements, plans, sides, (before, after))


# ---------------------------------------------------------------- report


def plan_rows(plans: dict[str, list[tuple[str, str]]]) -> list[str]:
    """One Markdown row per planned statement: what it reads, which indexes, time."""
    rows = []
    for page, planned in plans.items():
        for sql, plan in planned:
            words = " ".join(sql.split())
            verb = words.split(None, 1)[0]
            tables = re.findall(r"\b(?:FROM|JOIN|UPDATE)\s+(\w+)", words)
            main = ", ".join(dict.fromkeys(t for t in tables if t != "anchor"))
            indexes = re.findall(r"(?:using|USING (?:COVERING )?INDEX|on) (\w+)", plan)
            used = ", ".join(
                dict.fromkeys(i for i in indexes if i.startswith(("ix_", "uq_", "pk_")))
            )
            took = re.search(r"Execution Time: ([\d.]+) ms", plan)
            rows.append(
                f"| {page} | {verb} {main[:70]} | {used or '-'} | "
                f"{took.group(1) + ' ms' if took else '-'} |"
            )
    return rows


def table(run: EngineRun) -> str:
    """The Markdown report of one engine."""
    from tests.test_query_budget import full_scans  # the test's own check

    empty, long = run.sides
    lines = [
        f"### {run.engine}",
        "",
        "History rows: "
        + ", ".join(f"{k} {v:,}" for k, v in run.counts.items() if k != "seconds")
        + (
            f" (written and analysed in {run.counts['seconds']} s)."
            if run.counts["seconds"]
            else " (kept from an earlier run: --reuse)."
        ),
        f"Load average before/after the measurements: {run.load[0]} / {run.load[1]}.",
        "",
        "| page | empty req/s | long req/s | ratio | goal | p50 empty / long | "
        "p99 empty / long | statements empty / long |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for page in PAGES:
        rps = [statistics.median(m.rps for m in s.runs[page]) for s in (empty, long)]
        p50 = [statistics.median(m.p50_ms for m in s.runs[page]) for s in (empty, long)]
        p99 = [statistics.median(m.p99_ms for m in s.runs[page]) for s in (empty, long)]
        ratio = rps[1] / rps[0] if rps[0] else 0.0
        met = "met" if ratio >= GOAL else "**missed**"
        counts = [run.statements[label].get(page, 0) for label in ("empty", "long")]
        lines.append(
            f"| {page} | {rps[0]:.1f} | {rps[1]:.1f} | {ratio:.2f} | "
            f">= {GOAL:.2f}: {met} | {p50[0]:.1f} / {p50[1]:.1f} ms | "
            f"{p99[0]:.1f} / {p99[1]:.1f} ms | {counts[0]} / {counts[1]} |"
        )
    same = run.statements["empty"] == run.statements["long"]
    scans = [
        (page, line)
        for page, plans in run.plans.items()
        for _sql, plan in plans
        for line in full_scans(plan)
    ]
    lines += [
        "",
        "Statements per page (in process, every page of the query-budget test): "
        + ", ".join(f"{p} {n}" for p, n in run.statements["long"].items())
        + (" — the same as on the empty history." if same else " — **differ**: ")
        + ("" if same else str(run.statements["empty"])),
        "Full scans of a history table in the plans: "
        + ("none." if not scans else "; ".join(f"{p}: {line}" for p, line in scans)),
        "",
        "| page | statement | indexes used | execution |",
        "|---|---|---|---|",
        *plan_rows(run.plans),
        "",
        "<details><summary>Query plans on the long history</summary>",
        "",
    ]
    for page, plans in run.plans.items():
        lines.append(f"#### {page}")
        lines.append("")
        for sql, plan in plans:
            lines += ["```", " ".join(sql.split())[:400], "", plan, "```", ""]
    lines += ["</details>", ""]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--engine", choices=("sqlite", "postgres", "both"), default="both")
    add("--learners", type=int, default=100_000, help="PostgreSQL history learners")
    add("--sqlite-learners", type=int, default=10_000, help="SQLite history learners")
    add("--responses", type=int, default=10, help="responses per learner")
    add("--cards", type=int, default=20, help="study cards per learner")
    add("--logs", type=int, default=5, help="review-log rows per card")
    add("--questions", type=int, default=2_000, help="synthetic bank size")
    add("--rounds", type=int, default=3, help="empty/long alternations per page")
    add("-d", "--duration", type=int, default=5, help="seconds of wrk per run")
    add("-t", "--threads", type=int, default=2, help="wrk threads")
    add("-c", "--connections", type=int, default=8, help="wrk connections")
    add("--warmup", type=int, default=1, help="seconds of wrk warm-up per page")
    add("--timeout", type=int, default=30, help="wrk request timeout, seconds")
    add("--workers", type=int, default=3, help="gunicorn sync workers")
    add("--gunicorn-timeout", type=int, default=120, help="gunicorn --timeout")
    add("--wrk", default=web.shutil.which("wrk") or "/usr/bin/wrk")
    add("--pg-url", default=f"postgresql://postgres@{web.HOST}:5432")
    add(
        "--pg-database",
        default="quizbench_history",
        help="prefix: NAME_empty and NAME_long are created and dropped",
    )
    add("--keep-database", action="store_true", help="do not drop them at the end")
    add(
        "--reuse",
        action="store_true",
        help="PostgreSQL: measure the databases an earlier --keep-database run left",
    )
    add("-o", "--output", type=Path, default=BENCH_DIR / "results" / "history.md")
    args = parser.parse_args(argv)
    if args.reuse and args.engine != "postgres":
        parser.error("--reuse needs --engine postgres")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the requested engines; print and write the report."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    started = datetime.now(UTC)
    runs = []
    with tempfile.TemporaryDirectory(prefix="quizbench-history-") as tmp:
        workdir = Path(tmp)
        bank = web.synthetic_bank(workdir / "bank", args.questions, 7)
        for engine in engines:
            try:
                runs.append(run_engine(args, engine, bank, workdir))
            except Exception:
                for log in workdir.glob(f"{engine}-*.log"):
                    print(f"--- {log.name} ---\n{log.read_text()[-4000:]}")
                raise
            print("\n" + table(runs[-1]), flush=True)
    header = [
        "## Long history",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC, checkout {web.code_version()[1]}; "
        f"{args.rounds} rounds of {args.duration} s of wrk -t{args.threads} "
        f"-c{args.connections} per page and side, {args.workers} gunicorn workers; "
        f"synthetic bank of {args.questions:,} questions.",
        "",
    ]
    text = "\n".join(header) + "\n" + "\n".join(table(run) for run in runs)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
