"""Time `flask content load` of a synthetic bank: first load and no-change reload.

Usage: python benchmarks/content_load.py [--questions N] [--engine sqlite|postgresql]
       [--postgres-url URL] [--runs 3]

Each run builds a fresh database, runs `flask db upgrade`, then times (wall clock,
process start-up included) a first `flask content load` and a second one of the same
files (which the recorded digest lets skip the parse). Prints the median of the runs
against the goals of issue 16: 4 s and 2 s.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.synthetic import write_bank  # noqa: E402

GOAL_LOAD, GOAL_RELOAD = 4.0, 2.0
# Not passed on to `flask`. PYTHONDONTWRITEBYTECODE among them: bytecode is cached as
# on any installed or once-run checkout, else each start measures the compiler.
UNSET = (
    "DATABASE_URL",
    "REDIS_URL",
    "CONTENT_DIR",
    "FLASK_DEBUG",
    "PYTHONDONTWRITEBYTECODE",
)


def flask(env: dict[str, str], *argv: str) -> float:
    """Run `flask --app quizapp ...` and return its wall time; fail loudly."""
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
    return elapsed


def reset_postgres(url: str) -> None:
    """Empty the PostgreSQL database named by `url` (drop and recreate its schema)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def one_run(args: argparse.Namespace, content: Path, work: Path, n: int) -> tuple:
    """A fresh database, then (first load, no-change reload) seconds."""
    if args.engine == "sqlite":
        url = f"sqlite:///{work / f'run{n}.db'}"
    else:
        url = args.postgres_url
        reset_postgres(url)
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(
        DATABASE_URL=url,
        SECRET_KEY=secrets.token_urlsafe(48),
        QUIZAPP_ENV="production",
        SESSION_COOKIE_SECURE="0",
        PYTHONPATH=str(ROOT),
    )
    flask(env, "db", "upgrade")
    first = flask(env, "content", "load", str(content))
    again = flask(env, "content", "load", str(content))
    return first, again


def main() -> None:
    """Parse arguments, build the bank once, time the runs, print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=10000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test_load",
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"load average (1 min) before the runs: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        content = write_bank(work / "content", args.questions)
        runs = [one_run(args, content, work, n) for n in range(args.runs)]
    first = statistics.median(r[0] for r in runs)
    again = statistics.median(r[1] for r in runs)
    load = os.getloadavg()
    print(f"engine {args.engine}, questions {args.questions}, runs {args.runs}")
    print(f"load average (1 min) after the runs: {load[0]:.2f}")
    for name, value, goal in (
        ("first load", first, GOAL_LOAD),
        ("no-change reload", again, GOAL_RELOAD),
    ):
        verdict = "met" if value <= goal else "MISSED"
        print(f"{name}: {value:.2f} s (goal {goal:.0f} s: {verdict})")


if __name__ == "__main__":
    main()
