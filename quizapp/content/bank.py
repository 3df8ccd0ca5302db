"""Read a whole content directory: essays, questions and quizzes, checked together."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .digest import ContentDigest, content_files
from .lint import Finding, lint_bank, lint_question
from .schema import (
    TYPES,
    EssayDoc,
    QuestionDoc,
    QuizDoc,
    read_essay,
    read_questions,
    read_quizzes,
)
from .yamlio import ContentError, read_yaml

_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})


def normalise_quote(text: str) -> str:
    """Fold typographic quotes and runs of whitespace, the way quotes are matched."""
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip()


@dataclass
class Bank:
    """Everything under content/, with the errors and lint findings that go with it."""

    essays: list[EssayDoc] = field(default_factory=list)
    questions: list[QuestionDoc] = field(default_factory=list)
    quizzes: list[QuizDoc] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    files: int = 0
    # (file, what, how many) for each file that could not be parsed at all, so the
    # summary's counts are not taken for questions that were retired.
    unread: list[tuple[str, str, int]] = field(default_factory=list)
    # The digest of the bytes read (digest.py), which a load records.
    digest: str | None = None

    @property
    def ok(self) -> bool:
        """True when nothing stops the bank from loading."""
        return not self.errors

    def summary(self) -> str:
        """The line a person reads after `content check`, then one per unread file."""
        types = Counter(q.type for q in self.questions)
        by_type = ", ".join(f"{types[t]} {t}" for t in TYPES if types[t])
        lines = [
            f"{self.files} files: {len(self.essays)} essays, "
            f"{len(self.questions)} questions ({by_type or 'none'}), "
            f"{len(self.quizzes)} quizzes; {len(self.errors)} errors, "
            f"{len(self.warnings)} warnings"
        ]
        for path, what, count in self.unread:
            noun, verb = (_SINGULAR[what], "was") if count == 1 else (what, "were")
            lines.append(
                f"{count} {noun} in {path} {verb} not read (a YAML syntax error "
                "above) and not counted here"
            )
        return "\n".join(lines)


# The records a file holds, counted in its raw text when it cannot be parsed: one
# per list item that opens with its key ("- id:"), the way every file is written.
_RECORD_STARTS = {
    "questions": ("questions", re.compile(r"^\s*-\s+id\s*:", re.MULTILINE)),
    "quizzes": ("quizzes", re.compile(r"^\s*-\s+slug\s*:", re.MULTILINE)),
}


_SINGULAR = {"questions": "question", "quizzes": "quiz", "essays": "essay"}


def _count_unread(path: Path, folder: str) -> tuple[str, str, int]:
    """(file, what, how many records) for a file whose YAML could not be parsed."""
    if folder not in _RECORD_STARTS:
        return str(path), "essays", 1
    what, pattern = _RECORD_STARTS[folder]
    text = path.read_bytes().decode("utf-8", "replace")
    return str(path), what, len(pattern.findall(text))


def read_bank(content_dir: Path | str) -> Bank:
    """Parse, validate and lint the content directory; never touches the database."""
    root = Path(content_dir)
    bank = Bank()
    if not root.is_dir():
        bank.errors.append(ContentError(root, None, "content directory not found"))
        return bank
    digest = ContentDigest()
    for reader, folder, target in (
        (read_essay, "essays", bank.essays),
        (read_questions, "questions", bank.questions),
        (read_quizzes, "quizzes", bank.quizzes),
    ):
        for path in content_files(root, folder):
            bank.files += 1
            data = path.read_bytes()
            digest.add(folder, path, data)
            try:
                raw = read_yaml(path, data)
            except ContentError as exc:
                bank.errors.append(exc)
                bank.unread.append(_count_unread(path, folder))
                continue
            docs, errors = reader(raw, path)  # type: ignore[operator]
            bank.errors.extend(errors)
            if isinstance(docs, list):
                target.extend(docs)
            elif docs is not None:
                target.append(docs)
    if not bank.essays and not bank.errors:
        bank.errors.append(ContentError(root / "essays", None, "no essay files found"))
    _check_unique(bank)
    _resolve_sources(bank)
    _check_quizzes(bank)
    for question in bank.questions:
        errors, warnings = lint_question(question)
        bank.errors.extend(errors)
        bank.warnings.extend(warnings)
    bank.warnings.extend(lint_bank(bank.questions, str(root / "questions")))
    bank.errors.sort(key=lambda e: (e.path, e.line or 0))
    bank.digest = digest.hexdigest()
    return bank


def _check_unique(bank: Bank) -> None:
    seen: dict[str, tuple[str, int]] = {}
    for essay in bank.essays:
        if essay.slug in seen:
            path, line = seen[essay.slug]
            bank.errors.append(
                ContentError(
                    essay.path,
                    essay.line,
                    f"duplicate essay slug (also in {path}:{line})",
                    essay.slug,
                )
            )
        seen[essay.slug] = (essay.path, essay.line)
    for kind, docs in (("question id", bank.questions), ("quiz slug", bank.quizzes)):
        first: dict[str, tuple[str, int]] = {}
        unique = []
        for doc in docs:
            key = doc.id if isinstance(doc, QuestionDoc) else doc.slug
            if key in first:
                path, line = first[key]
                bank.errors.append(
                    ContentError(
                        doc.path,
                        doc.line,
                        f"duplicate {kind} (also in {path}:{line})",
                        key,
                    )
                )
                continue
            first[key] = (doc.path, doc.line)
            unique.append(doc)
        docs[:] = unique


def _resolve_sources(bank: Bank) -> None:
    essays = {
        essay.slug: [(p.anchor, normalise_quote(p.text)) for p in essay.passages]
        for essay in bank.essays
    }
    for question in bank.questions:
        if question.essay not in essays:
            bank.errors.append(
                ContentError(
                    question.path,
                    question.line,
                    f"unknown essay {question.essay!r} (the file's 'essay:')",
                    question.id,
                )
            )
        for source in question.sources:
            passages = essays.get(source.essay)
            if passages is None:
                bank.errors.append(
                    ContentError(
                        question.path,
                        source.line,
                        f"source names unknown essay {source.essay!r}",
                        question.id,
                    )
                )
                continue
            needle = normalise_quote(source.quote)
            found = [anchor for anchor, text in passages if needle in text]
            if not found:
                bank.errors.append(
                    ContentError(
                        question.path,
                        source.line,
                        f"quote not found in essay {source.essay!r}: "
                        f"{_clip(source.quote)!r} (copy it verbatim from one passage)",
                        question.id,
                    )
                )
            else:
                source.anchor = found[0]


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _check_quizzes(bank: Bank) -> None:
    known = {
        "essays": {e.slug for e in bank.essays},
        "tags": {t for q in bank.questions for t in q.tags},
        "types": set(TYPES),
        "questions": {q.id for q in bank.questions},
    }
    for quiz in bank.quizzes:
        for key, values in quiz.rule.items():
            for value in values:
                if value not in known[key]:
                    singular = key.rstrip("s")
                    bank.errors.append(
                        ContentError(
                            quiz.path,
                            quiz.rule_lines.get(key, quiz.line),
                            f"quiz names unknown {singular} {value!r}",
                            quiz.slug,
                        )
                    )
