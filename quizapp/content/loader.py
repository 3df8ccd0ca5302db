"""Upsert a validated bank into the database, keyed by the content's stable ids.

The caller owns the transaction: everything here adds and flushes, nothing commits,
so a load lands whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (
    ContentState,
    Essay,
    Passage,
    Question,
    QuestionSource,
    Quiz,
    Tag,
    utcnow,
)
from ..questions import rule_size
from .bank import Bank
from .schema import EssayDoc, QuestionDoc, QuizDoc

Row = TypeVar("Row", Question, Quiz)


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
) -> LoadReport:
    """Write a bank that passed validation; counts cover questions and quizzes."""
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
    existing = {q.id: q for q in session.scalars(select(Question))}
    titles = {essay.slug: essay.title for essay in bank.essays}
    for position, doc in enumerate(bank.questions):
        row = existing.pop(doc.id, None)
        digest = doc.content_hash(titles)
        _upsert_question(
            doc, digest, row, position, essays, passages, tags, session, report
        )
        if progress:
            progress(1)
    for row in existing.values():
        if not row.retired:
            row.retired = True
            report.retired += 1
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
    if report.changed:
        _bump_version(session)
    session.flush()
    return report


def _bump_version(session: Session) -> None:
    state = session.get(ContentState, 1)
    if state is None:
        state = ContentState(id=1, version=0)
        session.add(state)
    state.version += 1
    state.loaded_at = utcnow()


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


def _upsert_question(
    doc: QuestionDoc,
    digest: str,
    row: Question | None,
    position: int,
    essays: dict[str, Essay],
    passages: dict[tuple[str, str], Passage],
    tags: dict[str, Tag],
    session: Session,
    report: LoadReport,
) -> None:
    row = _claim(row, lambda: Question(id=doc.id), digest, position, session, report)
    if row is None:
        return
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


def _claim(
    row: Row | None,
    make: Callable[[], Row],
    digest: str,
    position: int,
    session: Session,
    report: LoadReport,
) -> Row | None:
    """The row to (re)write for changed content, or None when it is unchanged.

    Unchanged rows only follow a new position; changed, new or retired-and-back
    rows are counted, revived and stamped with the new content hash.
    """
    if row is not None and row.content_hash == digest and not row.retired:
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
