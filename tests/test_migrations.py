"""Migrations: `flask db upgrade` builds exactly the schema the models describe.

Runs on a fresh SQLite file, and on PostgreSQL too when TEST_DATABASE_URL is set. The
PostgreSQL run works in a schema of its own, created empty and dropped at the end, so
it never meets (or leaves behind) the tables the other tests create there.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import create_engine, inspect, text

from quizapp import create_app
from quizapp.extensions import db
from tests.conftest import TEST_DATABASE_URL

SCHEMA = f"migration_test_{os.getpid()}"


@pytest.fixture(autouse=True)
def keep_logging() -> Iterator[None]:
    """Undo what alembic's env.py does with fileConfig: every other logger disabled."""
    manager = logging.Logger.manager
    loggers = [logging.getLogger()] + [
        logger
        for logger in manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    saved = {
        logger: (logger.disabled, logger.level, list(logger.handlers), logger.propagate)
        for logger in loggers
    }
    yield
    for logger, (disabled, level, handlers, propagate) in saved.items():
        logger.disabled, logger.propagate = disabled, propagate
        logger.setLevel(level)
        logger.handlers[:] = handlers


def _postgresql_schema(url: str) -> Iterator[dict[str, Any]]:
    """A new, empty schema on the PostgreSQL server, dropped again afterwards."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    try:
        yield {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "connect_args": {"options": f"-csearch_path={SCHEMA}"}
            },
        }
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        admin.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(
                    not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set"
                ),
            ],
        ),
    ]
)
def database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    """Configuration for an empty database: a new SQLite file or PostgreSQL schema."""
    if request.param == "sqlite":
        yield {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'quizapp.sqlite'}"}
    else:
        yield from _postgresql_schema(str(TEST_DATABASE_URL))


@pytest.fixture
def empty_app(database: dict[str, Any]) -> Iterator[Flask]:
    """An app on that database: nothing created, nothing migrated yet."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "test-secret-key-not-for-production"} | database
    )
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def upgrade(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output


def test_db_upgrade_creates_every_table_of_the_models(empty_app: Flask) -> None:
    upgrade(empty_app)

    with empty_app.app_context():
        tables = set(inspect(db.engine).get_table_names())
    assert tables == set(db.metadata.tables) | {"alembic_version"}


def test_migrations_match_the_models(empty_app: Flask) -> None:
    upgrade(empty_app)

    with empty_app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_db_downgrade_to_base_removes_every_table(empty_app: Flask) -> None:
    upgrade(empty_app)

    result = empty_app.test_cli_runner().invoke(args=["db", "downgrade", "base"])

    assert result.exit_code == 0, result.output
    with empty_app.app_context():
        assert inspect(db.engine).get_table_names() == ["alembic_version"]
