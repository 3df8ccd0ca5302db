"""Turn questions from the database into an Anki package (.apkg), in memory.

The only module that imports genanki. Identity rules (README.md, "Anki decks"; the
project's ANKI.md notes, "Stable ids", "GUIDs" and "Timestamps, update rule and
deterministic output"): a note's GUID comes from its question id, its modification time
from the question's `updated_at`, and note type and deck ids are constants, so
re-importing a newer export updates exactly the notes whose questions changed and keeps
review history.
"""

from __future__ import annotations

import functools
import hashlib
import io
import itertools
import os
import re
import secrets
import sqlite3
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import genanki

from ..models import Essay, Question
from ..types import REGISTRY
from ..types.cards import text as _text
from .notetypes import CSS, NOTE_TYPES, STYLE_REVISION, NoteType

GUID_NAMESPACE = "quizapp-peacekeeping"
ROOT_DECK = "Peacekeeping"
ROOT_DECK_ID = 1838024846
# Zip entries carry a date; a fixed one makes two exports of the same content
# byte-identical (the earliest date a zip can hold).
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class DeckBuild:
    """A built package and what it holds."""

    data: bytes
    notes: int
    cards: int


class QuestionNote(genanki.Note):
    """A note stamped with its own modification time instead of the package's."""

    def __init__(self, *, mod: int, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.mod = mod

    def write_to_db(
        self,
        cursor: sqlite3.Cursor,
        timestamp: float,
        deck_id: int,
        id_gen: Iterator[int],
    ) -> None:
        """Write the note and its cards with this note's mod, not the package time."""
        # genanki passes one timestamp to every note; Anki applies an update only when
        # the note's mod is newer than the learner's copy, so each note must carry the
        # time its own question last changed.
        del timestamp
        super().write_to_db(cursor, self.mod, deck_id, id_gen)


def build_deck(questions: Sequence[Question]) -> DeckBuild:
    """Build an .apkg (in memory) holding one note per question."""
    models = {note_type.id: _model(note_type) for note_type in NOTE_TYPES}
    root = genanki.Deck(ROOT_DECK_ID, ROOT_DECK, description=_DECK_DESCRIPTION)
    decks: dict[str, genanki.Deck] = {}
    notes = 0
    cards = 0
    newest = 0
    for position, question in enumerate(questions):
        note = _note(question, models, position)
        deck = decks.get(question.essay.slug)
        if deck is None:
            deck = decks[question.essay.slug] = _essay_deck(question.essay)
        deck.add_note(note)
        notes += 1
        cards += len(note.cards)
        newest = max(newest, note.mod)
    # Note and card ids (Anki's "added" date) count up from the newest content change,
    # so the same content always gets the same ids.
    ids = itertools.count((newest or STYLE_REVISION) * 1000)
    data = _package([root, *decks.values()], ids)
    return DeckBuild(data=data, notes=notes, cards=cards)


def write_deck(questions: Sequence[Question], path: Path) -> DeckBuild:
    """Build a package and write it to `path` atomically."""
    build = build_deck(questions)
    path = Path(path)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        # O_EXCL: never write through a file or link someone else placed there; 0o666
        # lets the umask decide the final mode, as for any file the user creates.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with open(fd, "wb") as file:
            file.write(build.data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return build


def deck_filename(label: str) -> str:
    """A safe ASCII file name for a deck, e.g. "peacekeeping-bank.apkg"."""
    ascii_label = (
        unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    )
    stem = re.sub(r"[^a-z0-9]+", "-", ascii_label.lower()).strip("-")
    stem = stem.removesuffix("-apkg")[:80].strip("-")
    return f"{stem or 'deck'}.apkg"


def note_guid(question_id: str) -> str:
    """The GUID of a question's note: stable for the life of the question id."""
    return genanki.guid_for(GUID_NAMESPACE, question_id)


def essay_deck_name(essay: Essay) -> str:
    """The subdeck a question's note goes to."""
    # "::" would nest the deck one level deeper than meant.
    title = " ".join(essay.title.split()).replace("::", ":")
    return f"{ROOT_DECK}::{title}"


# -- note types and decks -----------------------------------------------------------

_DECK_DESCRIPTION = (
    "Questions on peacekeeping from the quizapp study bank, one subdeck per essay."
)


def _model(note_type: NoteType) -> genanki.Model:
    return genanki.Model(
        model_id=note_type.id,
        name=note_type.name,
        fields=[{"name": name} for name in note_type.fields],
        templates=[
            {
                "name": note_type.template,
                "qfmt": note_type.front,
                "afmt": note_type.back,
            }
        ],
        css=CSS,
        model_type=genanki.Model.CLOZE
        if note_type.deletions
        else genanki.Model.FRONT_BACK,
    )


def _essay_deck(essay: Essay) -> genanki.Deck:
    # Anki matches decks by name and ignores this id, but genanki keys decks by id,
    # so it must differ per essay and stay clear of 1 (Anki's Default deck).
    digest = hashlib.sha256(f"{GUID_NAMESPACE}:deck:{essay.slug}".encode()).digest()
    deck_id = (1 << 40) + int.from_bytes(digest[:5]) % (1 << 40)
    return genanki.Deck(deck_id, essay_deck_name(essay), description=_text(essay.title))


def _package(decks: list[genanki.Deck], ids: Iterator[int]) -> bytes:
    # genanki's own write_to_file leaves its temporary SQLite file behind in /tmp;
    # an in-memory database serialized into the zip leaves nothing anywhere.
    connection = sqlite3.connect(":memory:")
    try:
        genanki.Package(decks).write_to_db(connection.cursor(), STYLE_REVISION, ids)
        connection.commit()
        database = connection.serialize()
    finally:
        connection.close()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, payload in (("collection.anki2", database), ("media", b"{}")):
            entry = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, payload)
    return buffer.getvalue()


# -- notes --------------------------------------------------------------------------


def _note(
    question: Question, models: dict[int, genanki.Model], position: int
) -> QuestionNote:
    note_type, fields = REGISTRY[question.type].anki_fields(
        question.prompt, question.data
    )
    fields |= {
        "Explanation": _text(question.explanation),
        "Accuracy note": _text(question.note or ""),
        "Source": _sources(question),
        "Question ID": _text(question.id),
    }
    return QuestionNote(
        model=models[note_type.id],
        # A KeyError here means a builder and the frozen field list disagree.
        fields=[fields[name] for name in note_type.fields],
        tags=_tags(question),
        guid=note_guid(question.id),
        # New cards are shown in bank order.
        due=position,
        mod=_mod(question.updated_at),
    )


def _mod(updated_at: datetime) -> int:
    # SQLite hands datetimes back naive; they were stored as UTC.
    if updated_at.tzinfo is None:
        updated_at = updated_at.replace(tzinfo=UTC)
    return int(updated_at.timestamp())


def _tags(question: Question) -> list[str]:
    tags = {f"topic::{_tag(tag.name)}" for tag in question.tags}
    tags |= {
        f"essay::{_tag(question.essay.slug)}",
        f"difficulty::{_tag(question.difficulty)}",
        f"bloom::{_tag(question.bloom)}",
        f"type::{_tag(question.type)}",
    }
    return sorted(tags)


@functools.cache
def _tag(value: str) -> str:
    # Anki splits tags on spaces and compares them case-insensitively: keep one
    # lower-case kebab style so the first spelling in a collection is always ours.
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "none"


def _sources(question: Question) -> str:
    quotes = []
    for source in question.sources:
        passage = source.passage
        where = passage.essay.title
        if passage.section:
            where = f"{where} — {passage.section}"
        quotes.append(
            f"<blockquote>{_text(source.quote)}</blockquote>"
            f'<div class="cite">{_text(where)}</div>'
        )
    return "".join(quotes)
