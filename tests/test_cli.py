"""The CLI's edges: a database not migrated or not reachable, and what a load says.

Each failure must be one line on stderr saying what to do, exit 1, and leave the
database and the output file as they were.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect

from quizapp import create_app
from quizapp.extensions import db
from tests.conftest import FIXTURE_CONTENT, ROOT
from tests.test_migrations import keep_logging  # noqa: F401  (alembic's logging)

UPGRADE = "run `.venv/bin/flask --app quizapp db upgrade` first"
FIRST_REVISION = "c3e5e9bc7c2c"


def file_app(url: str) -> Flask:
    """An app on `url` with nothing created in it (unlike conftest's create_all)."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": url,
            "CONTENT_DIR": str(FIXTURE_CONTENT),
        }
    )


@pytest.fixture
def empty_app(tmp_path: Path) -> Flask:
    """An app on a fresh SQLite file that `db upgrade` has never touched."""
    return file_app(f"sqlite:///{tmp_path / 'fresh.sqlite'}")


def tables(app: Flask) -> set[str]:
    with app.app_context():
        return set(inspect(db.engine).get_table_names())


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [["content", "load"], ["anki", "export", "-o", "deck.apkg"]],
    ids=["content-load", "anki-export"],
)
def test_commands_on_an_unmigrated_database_say_run_db_upgrade_first(
    empty_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = empty_app.test_cli_runner().invoke(args=args)

    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert line == (
        f"Error: the database sqlite:///{tmp_path / 'fresh.sqlite'} has no tables "
        f"yet: {UPGRADE}"
    )
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert tables(empty_app) == set()
    assert not (tmp_path / "deck.apkg").exists()


def test_content_check_needs_no_database(empty_app: Flask) -> None:
    result = empty_app.test_cli_runner().invoke(args=["content", "check"])

    assert result.exit_code == 0, result.output
    assert "0 errors" in result.stdout


def test_a_database_at_an_older_migration_says_run_db_upgrade(
    empty_app: Flask,
) -> None:
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", FIRST_REVISION]).exit_code == 0

    result = runner.invoke(args=["content", "load"])

    assert result.exit_code == 1
    assert one_line(result.stderr).endswith(
        f"has an older schema ({FIRST_REVISION}): {UPGRADE}"
    )
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["content", "load"])
    assert result.exit_code == 0, result.output
    assert "Loaded: 10 added, 0 updated, 0 retired." in result.stdout


@pytest.mark.parametrize(
    "args", [["content", "load"], ["anki", "export"]], ids=["load", "export"]
)
def test_an_unreachable_database_is_named_without_its_password(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a deployment sets it: DATABASE_URL, normalised to psycopg 3.
    monkeypatch.setenv("DATABASE_URL", "postgresql://quiz:hunter2@127.0.0.1:1/quizapp")
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key-not-for-prod"})

    result = app.test_cli_runner().invoke(args=args)

    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert line.startswith(
        "Error: cannot reach the database "
        "postgresql+psycopg://quiz:***@127.0.0.1:1/quizapp: "
    )
    assert "refused" in line.lower()
    assert "hunter2" not in result.output


def test_a_real_flask_process_on_an_unmigrated_database_prints_one_line(
    tmp_path: Path,
) -> None:
    database = tmp_path / "fresh.sqlite"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SECRET_KEY", "QUIZAPP_ENV", "CONTENT_DIR")
    } | {"DATABASE_URL": f"sqlite:///{database}"}
    flask = Path(sys.executable).with_name("flask")

    done = subprocess.run(
        [str(flask), "--app", "quizapp", "content", "load"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 1
    assert done.stdout == ""
    assert one_line(done.stderr) == (
        f"Error: the database sqlite:///{database} has no tables yet: {UPGRADE}"
    )


def test_first_load_says_essays_added_and_a_reload_says_changed(
    app: Flask, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    content = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, content)

    first = runner.invoke(args=["content", "load", str(content)])

    assert first.exit_code == 0, first.output
    assert "Essays: 1 essay added, 8 passages added." in first.stdout
    assert "changed" not in first.stdout

    essay = content / "essays" / "cooperation-peacekeeping-missions.yaml"
    text = essay.read_text("utf-8")
    essay.write_text(text.replace("title: '", "title: 'The ", 1), "utf-8")
    second = runner.invoke(args=["content", "load", str(content)])

    assert second.exit_code == 0, second.output
    essays = [line for line in second.stdout.splitlines() if "Essays:" in line]
    assert essays == ["Essays: 1 title or passage changed."]


def test_anki_export_shows_progress_on_stderr(
    loaded_app: Flask, tmp_path: Path
) -> None:
    target = tmp_path / "deck.apkg"

    result = loaded_app.test_cli_runner().invoke(
        args=["anki", "export", "-o", str(target)]
    )

    assert result.exit_code == 0, result.output
    assert f"Writing {target}" in result.stderr
    assert result.stdout.strip() == f"Wrote 8 notes (12 cards) to {target}."
    assert target.exists()
