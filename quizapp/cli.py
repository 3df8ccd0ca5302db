"""`flask content ...` commands: the same stage functions the web and tests use.

Exit codes: 0 done; 1 nothing was written, for the reason in one line on stderr
(content errors, a database that is unreachable or not migrated, a file that
cannot be written); 2 a mistyped command (click's usage errors).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from .config import PROJECT_ROOT
from .content import read_bank
from .content.bank import Bank
from .content.digest import digest_files
from .content.essays import essay_yaml
from .content.loader import LoadReport, load_bank
from .extensions import db
from .models import ContentState

content_cli = AppGroup("content", help="Check and load the question bank.")
UPGRADE = "run `.venv/bin/flask --app quizapp db upgrade` first"
MIGRATIONS = PROJECT_ROOT / "migrations"


def database_problem(engine: Engine) -> str | None:
    """Why the CLI cannot use this database (unreachable, not migrated), or None."""
    url = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            revision = (
                MigrationContext.configure(connection).get_current_revision()
                if "alembic_version" in tables
                else None
            )
    except DBAPIError as error:
        return f"cannot reach the database {url}: {_first_line(error, engine)}"
    heads = set(ScriptDirectory(str(MIGRATIONS)).get_heads())
    if revision is not None and revision not in heads:
        return f"the database {url} has an older schema ({revision}): {UPGRADE}"
    missing = sorted(set(db.metadata.tables) - tables)
    if len(missing) == len(db.metadata.tables):
        return f"the database {url} has no tables yet: {UPGRADE}"
    if missing:
        return f"the database {url} lacks table {missing[0]!r}: {UPGRADE}"
    return None


def _first_line(error: DBAPIError, engine: Engine) -> str:
    # The driver's own words ("Connection refused", "unable to open database
    # file"), without SQLAlchemy's SQL and background link, and never the password.
    text = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else ""
    if engine.url.password:
        text = text.replace(str(engine.url.password), "***")
    return text or type(error.orig).__name__


def require_database() -> None:
    """Stop the command with one line (exit 1) when the database cannot serve it."""
    problem = database_problem(db.engine)
    if problem:
        raise click.ClickException(problem)


def init_app(app: Flask) -> None:
    """Register the command groups."""
    app.cli.add_command(content_cli)
    from .anki.cli import anki_cli

    app.cli.add_command(anki_cli)


def _folder(path: str | None) -> Path:
    return Path(path or current_app.config["CONTENT_DIR"])


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a command holds the whole bank.

    Its objects (a million for 10,000 questions) live until the command ends, and
    the collector's passes over them cost more than parsing them (5.3 s against
    1.8 s for 10,000 questions); reference counting frees the rest as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read(folder: Path) -> Bank:
    bank = read_bank(folder)
    for error in bank.errors:
        click.secho(f"error: {error}", fg="red", err=True)
    for warning in bank.warnings:
        click.secho(str(warning), fg="yellow", err=True)
    return bank


@content_cli.command("check")
@click.argument("path", required=False, type=click.Path(file_okay=False))
@click.option("--strict", is_flag=True, help="Fail on lint warnings too.")
def check_command(path: str | None, strict: bool) -> None:
    """Validate and lint the content files (default: CONTENT_DIR); write nothing."""
    with _collector_paused():
        bank = _read(_folder(path))
    click.echo(bank.summary())
    if not bank.ok or (strict and bank.warnings):
        if bank.errors:
            click.echo(
                "Fix the errors above (each names file:line [id]) and run again."
            )
        sys.exit(1)


@content_cli.command("load")
@click.argument("path", required=False, type=click.Path(file_okay=False))
@click.option(
    "--force", is_flag=True, help="Read the files even if they are as last loaded."
)
def load_command(path: str | None, force: bool) -> None:
    """Validate, then upsert the content into the database in one transaction.

    Files whose digest (with the loader's code) is the one the last load recorded
    would change nothing: they are not read again unless --force is given.
    """
    require_database()
    folder = _folder(path)
    if not force and _as_last_loaded(folder):
        return
    with _collector_paused():
        _load(folder)


def _as_last_loaded(folder: Path) -> bool:
    """Say so and return True when the files are those the last load recorded."""
    digest = digest_files(folder)
    state = db.session.get(ContentState, 1)
    if digest is None or state is None or state.content_digest != digest.hexdigest():
        return False
    if current_app.testing:
        # The skip checked against the plain path, so every test that reloads
        # guards it: reading and loading the same files must change nothing.
        with _collector_paused():
            bank = read_bank(folder)
            report = load_bank(bank, db.session)
        db.session.rollback()
        if not bank.ok or report.changed:
            raise AssertionError(f"a skipped load changes: {report}")
    click.echo(
        f"{digest.files} files as last loaded: not read again (--force reads them)."
    )
    click.echo(f"No changes: {LoadReport()}.")
    return True


def _load(folder: Path) -> None:
    bank = _read(folder)
    click.echo(bank.summary())
    if not bank.ok:
        click.echo("Nothing was loaded: fix the errors above and run again.", err=True)
        sys.exit(1)
    try:
        with click.progressbar(
            length=len(bank.questions), label="Loading questions", file=sys.stderr
        ) as bar:
            report = load_bank(bank, db.session, progress=bar.update)
        db.session.commit()
    except SQLAlchemyError as error:
        db.session.rollback()
        # A lock held too long, a server gone mid-load: nothing was committed.
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise click.ClickException(
            f"the load failed and wrote nothing: {reason}"
        ) from None
    except BaseException:
        db.session.rollback()
        raise
    if report.changed:
        click.echo(f"Loaded: {report}.")
        essays = report.essays_line()
        if essays:
            click.echo(essays)
        if report.reordered and not (report.added or report.updated or report.retired):
            click.echo("Only the order of questions or quizzes changed.")
    else:
        click.echo(f"No changes: {report}.")


@content_cli.command("import-essay")
@click.argument("source", type=click.File(encoding="utf-8"))
@click.argument("slug")
@click.option("--force", is_flag=True, help="Overwrite an existing essay file.")
def import_essay_command(source: click.File, slug: str, force: bool) -> None:
    """Turn a Markdown essay (# title, ## sections) into content/essays/SLUG.yaml."""
    target = Path(current_app.config["CONTENT_DIR"]) / "essays" / f"{slug}.yaml"
    if target.exists() and not force:
        raise click.ClickException(
            f"{target} exists; anchors must stay stable. Use --force to overwrite."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    text = source.read()  # type: ignore[attr-defined]
    target.write_text(essay_yaml(slug, text, Path(source.name).name), encoding="utf-8")  # type: ignore[attr-defined]
    click.echo(f"Wrote {target}")
