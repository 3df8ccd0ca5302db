"""Upsert a validated bank into the database, keyed by the content's stable ids.

The caller owns the transaction: everything here adds and flushes, nothing commits,
so a load lands whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeGuard

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from ..models import (
    ContentState,
    Essay,
    Passage,
    Question,
    QuestionSource,
    Quiz,
    Tag,
    question_tag,
    utcnow,
)
from ..questions import rule_size
from .bank import Bank
from .schema import EssayDoc, QuestionDoc, QuizDoc


@dataclass
class LoadReport:
    """What a load changed, for the one line the CLI prints."""

    added: int = 0
    updated: int = 0
    retired: int = 0
    unchanged: int = 0
    essays_added: int = 0
    passages_added: int = 0
    essays_changed: int = 0  # titles, positions or passage texts that differ
    passages_removed: int = 0
    reordered: int = 0

    def __str__(self) -> str:
        return f"{self.added} added, {self.updated} updated, {self.retired} retired"

    @property
    def changed(self) -> bool:
        """Whether the load wrote anything at all."""
        return bool(
            self.added
            or self.updated
            or self.retired
            or self.essays_added
            or self.passages_added
            or self.essays_changed
            or self.passages_removed
            or self.reordered
        )

    def essays_line(self) -> str | None:
        """What the load did to essays and passages, in words; None when nothing."""
        parts = [
            _count(self.essays_added, "essay", "added"),
            _count(self.passages_added, "passage", "added"),
            _count(
                self.essays_changed, "title or passage", "changed", "titles or passages"
            ),
            _count(self.passages_removed, "passage", "removed"),
        ]
        said = [part for part in parts if part]
        return "Essays: " + ", ".join(said) + "." if said else None


def _count(number: int, noun: str, verb: str, plural: str | None = None) -> str:
    if not number:
        return ""
    return f"{number} {noun if number == 1 else plural or noun + 's'} {verb}"


def load_bank(
    bank: Bank,
    session: Session,
    progress: Callable[[int], None] | None = None,
    *,
    bulk: bool = True,
) -> LoadReport:
    """Write a bank that passed validation; counts cover questions and quizzes.

    New and changed questions are written with one multi-row statement per table;
    `bulk=False` writes them as ORM objects one by one instead, the plain path the
    tests hold the bulk one against.
    """
    if not bank.ok:
        raise ValueError("refusing to load a bank with errors")
    report = LoadReport()
    essays = _load_essays(bank.essays, session, report)
    passages = {
        (essay.slug, passage.anchor): passage
        for essay in essays.values()
        for passage in essay.passages
    }
    tags = {t.name: t for t in session.scalars(select(Tag))}
    # Only what the comparison needs: whole rows (JSON data, relationships) would
    # cost more than the rest of a no-change load.
    known = {
        row.id: row
        for row in session.execute(
            select(
                Question.id, Question.content_hash, Question.position, Question.retired
            )
        )
    }
    titles = {essay.slug: essay.title for essay in bank.essays}
    writes = _QuestionWrites()
    for position, doc in enumerate(bank.questions):
        digest = doc.content_hash(titles)
        _upsert_question(doc, digest, known.pop(doc.id, None), position, writes, report)
        if progress:
            progress(1)
    writes.retired = [row.id for row in known.values() if not row.retired]
    report.retired += len(writes.retired)
    write = _write_questions if bulk else _write_questions_orm
    write(writes, essays, passages, tags, session)
    quizzes = {q.slug: q for q in session.scalars(select(Quiz))}
    for position, quiz_doc in enumerate(bank.quizzes):
        _upsert_quiz(
            quiz_doc, quizzes.pop(quiz_doc.slug, None), position, session, report
        )
    for quiz in quizzes.values():
        if not quiz.retired:
            quiz.retired = True
            report.retired += 1
    session.flush()
    for quiz in session.scalars(select(Quiz).where(~Quiz.retired)):
        size = rule_size(quiz.rule)
        if quiz.size != size:
            quiz.size = size
    _record(session, report, bank.digest)
    session.flush()
    return report


def _record(session: Session, report: LoadReport, digest: str | None) -> None:
    """Bump the content version if anything changed; keep the files' digest."""
    state = session.get(ContentState, 1)
    if state is None:
        state = ContentState(id=1, version=0)
        session.add(state)
    if report.changed:
        state.version += 1
        state.loaded_at = utcnow()
    if state.content_digest != digest:
        state.content_digest = digest


def _load_essays(
    docs: list[EssayDoc], session: Session, report: LoadReport
) -> dict[str, Essay]:
    essays = {e.slug: e for e in session.scalars(select(Essay))}
    for position, doc in enumerate(docs):
        essay = essays.get(doc.slug)
        if essay is None:
            essay = Essay(slug=doc.slug, title=doc.title, position=position)
            session.add(essay)
            essays[doc.slug] = essay
            report.essays_added += 1
        elif (essay.title, essay.position) != (doc.title, position):
            essay.title, essay.position = doc.title, position
            report.essays_changed += 1
        current = {p.anchor: p for p in essay.passages}
        for index, passage_doc in enumerate(doc.passages):
            passage = current.pop(passage_doc.anchor, None)
            values = (index, passage_doc.section, passage_doc.text)
            if passage is None:
                essay.passages.append(
                    Passage(
                        anchor=passage_doc.anchor,
                        position=index,
                        section=passage_doc.section,
                        text=passage_doc.text,
                    )
                )
                report.passages_added += 1
            elif (passage.position, passage.section, passage.text) != values:
                passage.position, passage.section, passage.text = values
                report.essays_changed += 1
        for passage in current.values():
            # A passage dropped from the file goes unless a (retired) question still
            # cites it, so old attempts can show their sources.
            cited = session.scalar(
                select(QuestionSource.id).where(QuestionSource.passage_id == passage.id)
            )
            if cited is None:
                essay.passages.remove(passage)
                report.passages_removed += 1
    session.flush()
    return essays


class _Stored(Protocol):
    """What a load compares of a stored question or quiz."""

    content_hash: str
    position: int
    retired: bool


@dataclass
class _QuestionWrites:
    """The question rows a load must write, decided before any is written."""

    # (doc, content hash, position, whether the id is new), in bank order.
    content: list[tuple[QuestionDoc, str, int, bool]] = field(default_factory=list)
    moved: dict[str, int] = field(default_factory=dict)  # unchanged, new position
    retired: list[str] = field(default_factory=list)


def _upsert_question(
    doc: QuestionDoc,
    digest: str,
    stored: _Stored | None,
    position: int,
    writes: _QuestionWrites,
    report: LoadReport,
) -> None:
    if _unchanged(stored, digest):
        if stored.position != position:
            writes.moved[doc.id] = position
            report.reordered += 1
        report.unchanged += 1
        return
    if stored is None:
        report.added += 1
    else:
        report.updated += 1
    writes.content.append((doc, digest, position, stored is None))


def _unchanged(stored: _Stored | None, digest: str) -> TypeGuard[_Stored]:
    return stored is not None and stored.content_hash == digest and not stored.retired


def _write_questions(
    writes: _QuestionWrites,
    essays: dict[str, Essay],
    passages: dict[tuple[str, str], Passage],
    tags: dict[str, Tag],
    session: Session,
) -> None:
    """Write the decided rows with one executemany statement per table and kind.

    Inserts go through the Core tables (the ORM's bulk insert costs twice as much
    per row); the session holds no Question objects to keep in step.
    """
    for doc, *_ in writes.content:
        for name in doc.tags:
            _tag(name, tags, session)
    session.flush()  # the new tags' ids
    now = utcnow()
    added: list[dict[str, Any]] = []  # INSERTed
    changed: list[dict[str, Any]] = []  # UPDATEd by id
    links: list[dict[str, Any]] = []
    sources: list[dict[str, Any]] = []
    for doc, digest, position, new in writes.content:
        (added if new else changed).append(
            {
                "id": doc.id,
                "type": doc.type,
                "essay_id": essays[doc.essay].id,
                "prompt": doc.prompt,
                "data": doc.data,
                "explanation": doc.explanation,
                "note": doc.note,
                "difficulty": doc.difficulty,
                "bloom": doc.bloom,
                "position": position,
                "retired": False,
                "content_hash": digest,
                "updated_at": now,
            }
        )
        links += [{"question_id": doc.id, "tag_id": tags[n].id} for n in doc.tags]
        sources += [
            {
                "question_id": doc.id,
                "passage_id": passages[(source.essay, source.anchor)].id,
                "position": index,
                "quote": source.quote,
            }
            for index, source in enumerate(doc.sources)
        ]
    # A changed question's tags and sources are replaced, as the ORM's collection
    # assignment (and delete-orphan) would do.
    for chunk in _chunks([row["id"] for row in changed]):
        session.execute(
            delete(question_tag).where(question_tag.c.question_id.in_(chunk))
        )
        session.execute(
            delete(QuestionSource)
            .where(QuestionSource.question_id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
    for statement, values in (
        (insert(Question.__table__), added),
        (update(Question), changed),
        (insert(question_tag), links),
        (insert(QuestionSource.__table__), sources),
        (update(Question), [{"id": i, "position": p} for i, p in writes.moved.items()]),
    ):
        if values:
            session.execute(statement, values)
    for chunk in _chunks(writes.retired):
        session.execute(
            update(Question)
            .where(Question.id.in_(chunk))
            .values(retired=True)
            .execution_options(synchronize_session=False)
        )


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    # Bounded IN lists: SQLite and PostgreSQL cap the parameters of one statement.
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def _write_questions_orm(
    writes: _QuestionWrites,
    essays: dict[str, Essay],
    passages: dict[tuple[str, str], Passage],
    tags: dict[str, Tag],
    session: Session,
) -> None:
    """The same rows as `_write_questions`, through ORM objects and relationships."""
    for doc, digest, position, new in writes.content:
        row = Question(id=doc.id) if new else session.get_one(Question, doc.id)
        session.add(row)
        row.position = position
        row.retired = False
        row.content_hash = digest
        row.type = doc.type
        row.essay = essays[doc.essay]
        row.prompt = doc.prompt
        row.data = doc.data
        row.explanation = doc.explanation
        row.note = doc.note
        row.difficulty = doc.difficulty
        row.bloom = doc.bloom
        row.updated_at = utcnow()
        row.tags = [_tag(name, tags, session) for name in doc.tags]
        row.sources = [
            QuestionSource(
                passage=passages[(source.essay, source.anchor)],
                position=index,
                quote=source.quote,
            )
            for index, source in enumerate(doc.sources)
        ]
    for question_id, position in writes.moved.items():
        session.get_one(Question, question_id).position = position
    for question_id in writes.retired:
        session.get_one(Question, question_id).retired = True
    session.flush()


def _claim(
    row: Quiz | None,
    make: Callable[[], Quiz],
    digest: str,
    position: int,
    session: Session,
    report: LoadReport,
) -> Quiz | None:
    """The quiz row to (re)write for changed content, or None when it is unchanged.

    Unchanged rows only follow a new position; changed, new or retired-and-back
    rows are counted, revived and stamped with the new content hash.
    """
    if _unchanged(row, digest):
        if row.position != position:
            row.position = position
            report.reordered += 1
        report.unchanged += 1
        return None
    if row is None:
        row = make()
        session.add(row)
        report.added += 1
    else:
        report.updated += 1
    row.position = position
    row.retired = False
    row.content_hash = digest
    return row


def _tag(name: str, tags: dict[str, Tag], session: Session) -> Tag:
    tag = tags.get(name)
    if tag is None:
        tag = tags[name] = Tag(name=name)
        session.add(tag)
    return tag


def _upsert_quiz(
    doc: QuizDoc,
    row: Quiz | None,
    position: int,
    session: Session,
    report: LoadReport,
) -> None:
    digest = doc.content_hash()
    row = _claim(row, lambda: Quiz(slug=doc.slug), digest, position, session, report)
    if row is None:
        return
    row.title = doc.title
    row.description = doc.description
    row.mode = doc.mode
    row.rule = doc.rule
    row.count = doc.count
