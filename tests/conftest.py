"""flaskr-style fixtures: a fresh app and database per test, on SQLite or PostgreSQL.

Set TEST_DATABASE_URL (postgresql+psycopg://...) to run the same tests against a real
PostgreSQL server; otherwise each test gets an in-memory SQLite database.

Randomness is reproducible. The app's draws (question order, option order, the
builder's pick) come from a generator seeded per test from one run seed: fixed
under CI, random otherwise, printed in the header and with every failure, and
taken from QUIZAPP_TEST_SEED when set. Hypothesis runs derandomized under CI
(the same examples every run) and prints a reproduction blob on failure.
"""

from __future__ import annotations

import os
import random
import secrets
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from anki.collection import Collection
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import settings
from sqlalchemy import func, select
from sqlalchemy.pool import StaticPool

from quizapp import create_app
from quizapp.content import load_bank, read_bank
from quizapp.extensions import db
from quizapp.quiz import attempts

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_CONTENT = Path(__file__).resolve().parent / "fixtures" / "content"
BANK_CONTENT = ROOT / "content"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")

# CI explores nothing new on its own (a red run is the code's fault, not the draw's);
# a developer's run draws a fresh seed, printed so any failure can be replayed.
CI = bool(os.environ.get("CI"))
RUN_SEED = int(
    os.environ.get("QUIZAPP_TEST_SEED") or (17 if CI else secrets.randbelow(10**6))
)
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if CI else "dev"))


# The test's generator and its state before the test, to tell whether it drew.
DRAWS = pytest.StashKey[tuple[random.Random, object]]()


def pytest_report_header() -> str:
    """Say which seed the app's random draws use, and how to repeat it."""
    return f"random draws: QUIZAPP_TEST_SEED={RUN_SEED} (set it to repeat this run)"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Print the seed under a failure that drew, so it can be replayed."""
    report = yield
    drawn = item.stash.get(DRAWS, None)
    if report.failed and drawn is not None and drawn[0].getstate() != drawn[1]:
        report.sections.append(
            ("random draws", f"QUIZAPP_TEST_SEED={RUN_SEED} pytest '{item.nodeid}'")
        )
    return report


@pytest.fixture(autouse=True)
def seeded_draws(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app draws from a generator seeded by the run seed and the test's id.

    Each test's draws depend only on the seed and its own name, not on which tests
    ran before it (the browser tests share one server).
    """
    rng = random.Random(f"{RUN_SEED}:{request.node.nodeid}")
    request.node.stash[DRAWS] = (rng, rng.getstate())
    monkeypatch.setattr(attempts, "_rng", rng)


def make_app(content_dir: Path = FIXTURE_CONTENT, **overrides: object) -> Flask:
    """An app on a fresh, empty schema (create_all; migrations are tested apart)."""
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "CONTENT_DIR": str(content_dir),
        "WTF_CSRF_ENABLED": False,
        # Each app counts rate limits in its own key space, so that with REDIS_URL
        # set (the PostgreSQL lane) tests do not spend each other's allowance.
        "RATE_LIMIT_KEY_PREFIX": f"test-{secrets.token_hex(8)}",
    }
    if TEST_DATABASE_URL:
        config["SQLALCHEMY_DATABASE_URI"] = TEST_DATABASE_URL
    else:
        config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
        # One shared connection, so every session sees the same in-memory database.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "poolclass": StaticPool,
            "connect_args": {"check_same_thread": False},
        }
    config.update(overrides)
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


@pytest.fixture
def app() -> Iterator[Flask]:
    """A fresh app with an empty database."""
    app = make_app()
    yield app
    close_app(app)


def close_app(app: Flask) -> None:
    """Drop the test's tables and release its connections."""
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def collection(tmp_path: Path) -> Iterator[Collection]:
    """A fresh, empty Anki collection (the real Anki backend)."""
    folder = tmp_path / "collection"
    folder.mkdir()
    col = Collection(str(folder / "collection.anki2"))
    yield col
    col.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def load_content(app: Flask, content_dir: Path = FIXTURE_CONTENT) -> None:
    """Validate and load a content directory, failing the test on any error."""
    with app.app_context():
        bank = read_bank(content_dir)
        assert bank.ok, "\n".join(map(str, bank.errors))
        load_bank(bank, db.session)
        db.session.commit()


@pytest.fixture
def loaded_app(app: Flask) -> Flask:
    """An app with the small fixture bank (one question of each type) loaded."""
    load_content(app)
    return app


def count_rows(app: Flask, model: type) -> int:
    """How many rows a table holds."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def detached_row(app: Flask, model: type[T], key: object) -> T:
    """One row by primary key, detached from its session with its columns loaded."""
    with app.app_context():
        row = db.session.get(model, key)
        assert row is not None, f"no {model.__name__} {key!r}"
        db.session.expunge(row)
        return row
