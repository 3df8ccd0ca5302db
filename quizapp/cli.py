"""`flask content ...` commands: the same stage functions the web and tests use.

Exit codes: 0 done; 1 nothing was written, for the reason in one line on stderr
(content errors, a database that is unreachable or not migrated, a file that
cannot be written); 2 a mistyped command (click's usage errors).
"""

from __future__ import annotations

import sys
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
from .content.essays import essay_yaml
from .content.loader import load_bank
from .extensions import db

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


def _read(path: str | None) -> Bank:
    folder = Path(path or current_app.config["CONTENT_DIR"])
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
    bank = _read(path)
    click.echo(bank.summary())
    if not bank.ok or (strict and bank.warnings):
        if bank.errors:
            click.echo(
                "Fix the errors above (each names file:line [id]) and run again."
            )
        sys.exit(1)


@content_cli.command("load")
@click.argument("path", required=False, type=click.Path(file_okay=False))
def load_command(path: str | None) -> None:
    """Validate, then upsert the content into the database in one transaction."""
    require_database()
    bank = _read(path)
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
