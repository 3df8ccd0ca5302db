"""`flask anki ...` commands: the same deck builder the download view uses."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import overload

import click
from flask.cli import AppGroup

from ..cli import require_database
from ..models import Question
from ..questions import select_questions
from .builder import deck_filename, write_deck

anki_cli = AppGroup("anki", help="Export the bank as Anki decks.")


class Counted(Sequence[Question]):
    """The questions to export, calling `tick(1)` as the builder takes each one."""

    def __init__(self, items: list[Question], tick: Callable[[int], None]) -> None:
        self.items = items
        self.tick = tick

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> Question: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Question]: ...
    def __getitem__(self, index: int | slice) -> Question | Sequence[Question]:
        return self.items[index]

    def __iter__(self) -> Iterator[Question]:
        for item in self.items:
            yield item
            self.tick(1)


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
        questions = select_questions(essay=essay, quiz=quiz, tag=tag)
    except LookupError as error:
        raise click.ClickException(str(error)) from None
    if not questions:
        click.echo("No questions match that selection: nothing written.", err=True)
        sys.exit(1)
    label = "-".join(filter(None, [quiz, essay, tag])) or "bank"
    target = output or Path(deck_filename(f"peacekeeping-{label}"))
    try:
        # On a terminal a bar; elsewhere (logs, CI) click prints the label once.
        with click.progressbar(
            length=len(questions), label=f"Writing {target}", file=sys.stderr
        ) as bar:
            build = write_deck(Counted(questions, bar.update), target)
    except OSError as error:
        raise click.ClickException(
            f"cannot write {target}: {error.strerror or error}"
        ) from None
    click.echo(f"Wrote {build.notes} notes ({build.cards} cards) to {target}.")
