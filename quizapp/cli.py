"""`flask content ...` commands: the same stage functions the web and tests use."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .content import read_bank
from .content.bank import Bank
from .content.essays import essay_yaml
from .content.loader import load_bank
from .extensions import db

content_cli = AppGroup("content", help="Check and load the question bank.")


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
    except Exception:
        db.session.rollback()
        raise
    if report.changed:
        click.echo(f"Loaded: {report}.")
        if report.essays_changed:
            click.echo(f"Essays: {report.essays_changed} titles or passages changed.")
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
