"""Turn questions from the database into an Anki package (.apkg), in memory.

The only module that imports genanki. Identity rules (README.md, "Anki decks"; the
project's ANKI.md notes, "Stable ids", "GUIDs" and "Timestamps, update rule and
deterministic output"): a note's GUID comes from its question id, its modification time
from the question's `updated_at`, and note type and deck ids are constants, so
re-importing a newer export updates exactly the notes whose questions changed and keeps
review history.

Two ways to the same package, byte for byte (tests/test_anki.py holds them equal):
`build_deck` renders each question once into the rows of Anki's `notes` and `cards`
tables and inserts them itself, in the order genanki would; `build_deck_plain` hands
genanki one Note per question and lets `Note.write_to_db` do it, the reference. The
questions come either as ORM rows (`select_questions`) or, lighter, as `DeckQuestion`
rows read by `load_questions` in three statements without ORM objects.
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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import genanki
from sqlalchemy import Select, select

from ..extensions import db
from ..models import Essay, Passage, Question, QuestionSource, Tag, question_tag
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


@dataclass(frozen=True)
class Collection:
    """A package's Anki collection (an SQLite database image), not yet zipped."""

    database: bytes
    notes: int
    cards: int


@dataclass(frozen=True, slots=True)
class DeckEssay:
    """The essay a question belongs to: its subdeck."""

    slug: str
    title: str


@dataclass(frozen=True, slots=True)
class DeckSource:
    """A quote on a question's card and where it stands."""

    quote: str
    essay_title: str
    section: str | None


@dataclass(frozen=True, slots=True)
class DeckQuestion:
    """What a question's note is made of, read without ORM objects."""

    id: str
    type: str
    prompt: str
    data: dict[str, Any]
    explanation: str
    note: str | None
    difficulty: str
    bloom: str
    updated_at: datetime
    essay: DeckEssay
    tags: tuple[str, ...]  # by name
    sources: tuple[DeckSource, ...]  # by position

    @classmethod
    def of(cls, question: Question) -> DeckQuestion:
        """The same row taken from an ORM question and its loaded relationships."""
        return cls(
            id=question.id,
            type=question.type,
            prompt=question.prompt,
            data=question.data,
            explanation=question.explanation,
            note=question.note,
            difficulty=question.difficulty,
            bloom=question.bloom,
            updated_at=question.updated_at,
            essay=DeckEssay(question.essay.slug, question.essay.title),
            tags=tuple(tag.name for tag in question.tags),
            sources=tuple(
                DeckSource(
                    source.quote, source.passage.essay.title, source.passage.section
                )
                for source in question.sources
            ),
        )


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


def load_questions(query: Select[tuple[Question]]) -> list[DeckQuestion]:
    """The questions `query` selects, in its order, as deck rows (see iter_questions).

    The same rows as `DeckQuestion.of` over `with_details(query)`, without building
    an ORM object per question, tag link and source.
    """
    return list(iter_questions(query))


def iter_questions(query: Select[tuple[Question]]) -> Iterator[DeckQuestion]:
    """Yield the deck rows of the questions `query` selects, in its order.

    Four statements: essays, tag names, sources, then the questions, read in
    batches; a row is built as it is taken, so a builder consuming the iterator
    never holds the whole bank's rows at once.
    """
    chosen = query.with_only_columns(Question.id).order_by(None)
    essays = {
        row.id: DeckEssay(row.slug, row.title)
        for row in db.session.execute(select(Essay.id, Essay.slug, Essay.title))
    }
    tags: dict[str, list[str]] = {}
    for question_id, name in db.session.execute(
        select(question_tag.c.question_id, Tag.name)
        .join_from(question_tag, Tag)
        .where(question_tag.c.question_id.in_(chosen))
        .order_by(question_tag.c.question_id, Tag.name)
    ):
        tags.setdefault(question_id, []).append(name)
    sources: dict[str, list[DeckSource]] = {}
    for question_id, quote, essay_id, section in db.session.execute(
        select(
            QuestionSource.question_id,
            QuestionSource.quote,
            Passage.essay_id,
            Passage.section,
        )
        .join_from(QuestionSource, Passage)
        .where(QuestionSource.question_id.in_(chosen))
        .order_by(
            QuestionSource.question_id, QuestionSource.position, QuestionSource.id
        )
    ):
        sources.setdefault(question_id, []).append(
            DeckSource(quote, essays[essay_id].title, section)
        )
    rows = db.session.execute(
        query.with_only_columns(
            Question.id,
            Question.type,
            Question.prompt,
            Question.data,
            Question.explanation,
            Question.note,
            Question.difficulty,
            Question.bloom,
            Question.updated_at,
            Question.essay_id,
        ).execution_options(yield_per=_BATCH)
    )
    for row in rows:
        yield DeckQuestion(
            id=row.id,
            type=row.type,
            prompt=row.prompt,
            data=row.data,
            explanation=row.explanation,
            note=row.note,
            difficulty=row.difficulty,
            bloom=row.bloom,
            updated_at=row.updated_at,
            essay=essays[row.essay_id],
            tags=tuple(tags.pop(row.id, ())),
            sources=tuple(sources.pop(row.id, ())),
        )


# Question rows fetched per round trip by iter_questions.
_BATCH = 500


def build_deck(questions: Iterable[Question | DeckQuestion]) -> DeckBuild:
    """Build an .apkg (in memory) holding one note per question."""
    return zip_package(build_collection(questions))


def build_deck_plain(questions: Iterable[Question | DeckQuestion]) -> DeckBuild:
    """The same package through genanki's own Note.write_to_db: the reference."""
    return zip_package(_build(questions, _write_notes, None))


def build_collection(questions: Iterable[Question | DeckQuestion]) -> Collection:
    """The collection database of `build_deck`'s package, one note per question."""
    return _build(questions, _write_rows, _Reuse())


# Deflate level of the package (zlib's default). Measured on the 10,000-question
# synthetic bank (benchmarks/anki_export.py): a 22 MiB collection becomes 2.7 MiB in
# about 0.3 s; level 1 takes a third of the time for a third more bytes, level 9
# twice the time for 0.5% fewer. A deck is built once per content version and
# downloaded many times, so the bytes count more than the build time.
ZIP_LEVEL = 6


def zip_package(collection: Collection) -> DeckBuild:
    """The .apkg of a collection: its database and an empty media list, deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, payload in (
            ("collection.anki2", collection.database),
            ("media", b"{}"),
        ):
            entry = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, payload, compresslevel=ZIP_LEVEL)
    return DeckBuild(
        data=buffer.getvalue(), notes=collection.notes, cards=collection.cards
    )


def write_deck(questions: Iterable[Question | DeckQuestion], path: Path) -> DeckBuild:
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


class Titled(Protocol):
    """An essay as a deck name needs it (an Essay or a DeckEssay)."""

    @property
    def title(self) -> str:
        """The essay's title."""
        ...


def essay_deck_name(essay: Titled) -> str:
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


def _essay_deck(essay: DeckEssay) -> genanki.Deck:
    # Anki matches decks by name and ignores this id, but genanki keys decks by id,
    # so it must differ per essay and stay clear of 1 (Anki's Default deck).
    digest = hashlib.sha256(f"{GUID_NAMESPACE}:deck:{essay.slug}".encode()).digest()
    deck_id = (1 << 40) + int.from_bytes(digest[:5]) % (1 << 40)
    return genanki.Deck(deck_id, essay_deck_name(essay), description=_text(essay.title))


# -- the package --------------------------------------------------------------------


@dataclass(slots=True)
class _Note:
    """One question's note before it is written: fields, tags and cards decided."""

    model: genanki.Model
    fields: list[str]
    tags: tuple[str, ...]
    guid: str
    due: int
    mod: int
    ords: tuple[int, ...]  # its cards' template or deletion numbers, as genanki decides


class _Reuse:
    """What repeats across one build's notes, worked out once.

    Which cards a front/back note gets depends only on its note type and which of
    its fields are filled; tags only on the question's tags, essay, difficulty,
    Bloom level and type; a citation line only on the essay and section. The plain
    build (no _Reuse) works each out per note: the reference the tests compare to.
    """

    def __init__(self) -> None:
        self.cards: dict[tuple[int, tuple[bool, ...]], tuple[int, ...]] = {}
        self.tags: dict[tuple[object, ...], tuple[str, ...]] = {}
        self.cites: dict[tuple[str, str | None], str] = {}


# Decks in the order they are written (the root first), each with its notes.
_Decks = list[tuple[genanki.Deck, list[_Note]]]
_Writer = Callable[[sqlite3.Cursor, _Decks, Iterator[int]], None]


def _build(
    questions: Iterable[Question | DeckQuestion], write: _Writer, reuse: _Reuse | None
) -> Collection:
    models = {note_type.id: _model(note_type) for note_type in NOTE_TYPES}
    root = genanki.Deck(ROOT_DECK_ID, ROOT_DECK, description=_DECK_DESCRIPTION)
    decks: dict[str, tuple[genanki.Deck, list[_Note]]] = {}
    notes = 0
    cards = 0
    newest = 0
    for position, question in enumerate(questions):
        if not isinstance(question, DeckQuestion):
            question = DeckQuestion.of(question)
        note = _note(question, models, position, reuse)
        entry = decks.get(question.essay.slug)
        if entry is None:
            entry = decks[question.essay.slug] = (_essay_deck(question.essay), [])
        entry[1].append(note)
        notes += 1
        cards += len(note.ords)
        newest = max(newest, note.mod)
    # Note and card ids (Anki's "added" date) count up from the newest content change,
    # so the same content always gets the same ids.
    ids = itertools.count((newest or STYLE_REVISION) * 1000)
    database = _database([(root, []), *decks.values()], ids, write)
    return Collection(database=database, notes=notes, cards=cards)


def _database(decks: _Decks, ids: Iterator[int], write: _Writer) -> bytes:
    # genanki's own write_to_file leaves its temporary SQLite file behind in /tmp;
    # an in-memory database serialized into the zip leaves nothing anywhere. Its
    # image also carries no SQLite version or change counter in the header, which a
    # file would: the same content gives the same bytes on any SQLite.
    connection = sqlite3.connect(":memory:")
    try:
        write(connection.cursor(), decks, ids)
        connection.commit()
        return connection.serialize()
    finally:
        connection.close()


def _write_notes(cursor: sqlite3.Cursor, decks: _Decks, ids: Iterator[int]) -> None:
    # The reference: one genanki Note per question, written by genanki.
    for deck, notes in decks:
        for note in notes:
            deck.add_note(
                QuestionNote(
                    model=note.model,
                    fields=note.fields,
                    tags=note.tags,
                    guid=note.guid,
                    due=note.due,
                    mod=note.mod,
                )
            )
    genanki.Package([deck for deck, _ in decks]).write_to_db(
        cursor, STYLE_REVISION, ids
    )


_NOTE_ROW = "INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?);"
_CARD_ROW = "INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);"


def _write_rows(cursor: sqlite3.Cursor, decks: _Decks, ids: Iterator[int]) -> None:
    # The rows genanki's Note.write_to_db and Card.write_to_db would insert, in the
    # same order (so the same ids and the same database bytes), without a Note
    # object and its HTML check per question; build_deck_plain is the reference.
    genanki.Package([]).write_to_db(cursor, STYLE_REVISION, ids)  # schema, col row
    execute = cursor.execute
    for deck, notes in decks:
        for note in notes:
            deck.add_model(note.model)
        # No notes in the deck: this writes its entry and its note types into col.
        deck.write_to_db(cursor, STYLE_REVISION, ids)
        for note in notes:
            note_id = next(ids)
            fields = note.fields
            # id, guid, mid, mod, usn, tags, flds, sfld, csum, flags, data
            execute(
                _NOTE_ROW,
                (
                    note_id,
                    note.guid,
                    note.model.model_id,
                    note.mod,
                    -1,
                    f" {' '.join(note.tags)} ",
                    "\x1f".join(fields),
                    fields[note.model.sort_field_index],
                    0,
                    0,
                    "",
                ),
            )
            # id, nid, did, ord, mod, usn, type, queue, due, ivl, factor, reps,
            # lapses, left, odue, odid, flags, data
            for ord_ in note.ords:
                card = (next(ids), note_id, deck.deck_id, ord_, note.mod, -1, 0, 0)
                execute(_CARD_ROW, (*card, note.due, *_CARD_ZEROS))


_CARD_ZEROS = (0, 0, 0, 0, 0, 0, 0, 0, "")


# -- notes --------------------------------------------------------------------------


def _note(
    question: DeckQuestion,
    models: dict[int, genanki.Model],
    position: int,
    reuse: _Reuse | None,
) -> _Note:
    note_type, fields = REGISTRY[question.type].anki_fields(
        question.prompt, question.data
    )
    fields |= {
        "Explanation": _text(question.explanation),
        "Accuracy note": _text(question.note or ""),
        "Source": _sources(question, reuse),
        "Question ID": _text(question.id),
    }
    model = models[note_type.id]
    # A KeyError here means a builder and the frozen field list disagree.
    values = [fields[name] for name in note_type.fields]
    return _Note(
        model=model,
        fields=values,
        tags=_tags(question, reuse),
        guid=note_guid(question.id),
        # New cards are shown in bank order.
        due=position,
        mod=_mod(question.updated_at),
        ords=_ords(model, values, reuse),
    )


def _ords(
    model: genanki.Model, values: list[str], reuse: _Reuse | None
) -> tuple[int, ...]:
    if reuse is None or model.model_type != genanki.Model.FRONT_BACK:
        # genanki decides which cards a note has (ANKI.md section 7); ask it.
        notes = genanki.Note(model=model, fields=values)
        return tuple(card.ord for card in notes.cards)
    # A front/back note gets a card per template whose required fields are filled.
    key = (model.model_id, tuple(map(bool, values)))
    ords = reuse.cards.get(key)
    if ords is None:
        ords = reuse.cards[key] = _ords(model, values, None)
    return ords


def _mod(updated_at: datetime) -> int:
    # SQLite hands datetimes back naive; they were stored as UTC.
    if updated_at.tzinfo is None:
        updated_at = updated_at.replace(tzinfo=UTC)
    return int(updated_at.timestamp())


def _tags(question: DeckQuestion, reuse: _Reuse | None) -> tuple[str, ...]:
    if reuse is None:
        return _tags_of(question)
    key = (
        question.tags,
        question.essay.slug,
        question.difficulty,
        question.bloom,
        question.type,
    )
    tags = reuse.tags.get(key)
    if tags is None:
        tags = reuse.tags[key] = _tags_of(question)
    return tags


def _tags_of(question: DeckQuestion) -> tuple[str, ...]:
    tags = {f"topic::{_tag(name)}" for name in question.tags}
    tags |= {
        f"essay::{_tag(question.essay.slug)}",
        f"difficulty::{_tag(question.difficulty)}",
        f"bloom::{_tag(question.bloom)}",
        f"type::{_tag(question.type)}",
    }
    return tuple(sorted(tags))


@functools.cache
def _tag(value: str) -> str:
    # Anki splits tags on spaces and compares them case-insensitively: keep one
    # lower-case kebab style so the first spelling in a collection is always ours.
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "none"


def _sources(question: DeckQuestion, reuse: _Reuse | None) -> str:
    quotes = []
    for source in question.sources:
        if reuse is None:
            cite = _cite(source.essay_title, source.section)
        else:
            key = (source.essay_title, source.section)
            cite = reuse.cites.get(key) or reuse.cites.setdefault(key, _cite(*key))
        quotes.append(f"<blockquote>{_text(source.quote)}</blockquote>{cite}")
    return "".join(quotes)


def _cite(essay_title: str, section: str | None) -> str:
    where = f"{essay_title} — {section}" if section else essay_title
    return f'<div class="cite">{_text(where)}</div>'
