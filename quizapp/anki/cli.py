"""`flask anki ...` commands: the same deck builder the download view uses."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from ..cli import require_database
from ..extensions import db
from ..questions import export_query
from .builder import DeckQuestion, deck_filename, iter_questions, write_deck

anki_cli = AppGroup("anki", help="Export the bank as Anki decks.")


def counted(
    items: Iterable[DeckQuestion], tick: Callable[[int], None]
) -> Iterator[DeckQuestion]:
    """The questions to export, calling `tick(1)` as the builder takes each one."""
    for item in items:
        yield item
        tick(1)


@anki_cli.command("export")
@click.option("--essay", metavar="SLUG", help="Only questions citing this essay.")
@click.option("--quiz", metavar="SLUG", help="Only the questions this quiz draws from.")
@click.option("--tag", metavar="TAG", help="Only questions with this tag.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The .apkg file to write (default: a name from the selection, here).",
)
def export_command(
    essay: str | None, quiz: str | None, tag: str | None, output: Path | None
) -> None:
    """Write the bank (or one essay's, quiz's or tag's questions) as an Anki .apkg."""
    require_database()
    try:
        query = export_query(essay=essay, quiz=quiz, tag=tag)
    except LookupError as error:
        raise click.ClickException(str(error)) from None
    # Counted first, then read while the deck is built: the rows of the whole bank
    # are never all in memory at once.
    count = db.session.scalar(
        select(func.count()).select_from(query.order_by(None).subquery())
    )
    if not count:
        click.echo("No questions match that selection: nothing written.", err=True)
        sys.exit(1)
    label = "-".join(filter(None, [quiz, essay, tag])) or "bank"
    target = output or Path(deck_filename(f"peacekeeping-{label}"))
    try:
        # On a terminal a bar; elsewhere (logs, CI) click prints the label once.
        with click.progressbar(
            length=count, label=f"Writing {target}", file=sys.stderr
        ) as bar:
            build = write_deck(counted(iter_questions(query), bar.update), target)
    except OSError as error:
        raise click.ClickException(
            f"cannot write {target}: {error.strerror or error}"
        ) from None
    click.echo(f"Wrote {build.notes} notes ({build.cards} cards) to {target}.")
