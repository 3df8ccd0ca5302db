"""Validate parsed content files into plain records, collecting every located error."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..types import REGISTRY, TYPES
from ..types.base import yaml_kind as _yaml_kind
from .yamlio import ContentError, Mapping

ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
DIFFICULTIES = ("easy", "medium", "hard")
BLOOM_LEVELS = ("remember", "understand", "apply", "analyze")
MODES = ("practice", "exam")
# The codes a `lint_ignore` may name: the rules of every type, and those of all.
LINT_CODES = (
    "stem-incomplete",
    *dict.fromkeys(code for kind in REGISTRY.values() for code in kind.lint_codes),
    "multi-essay-prompt",
    "bloom-scenario",
)
COMMON_KEYS = {
    "id",
    "type",
    "prompt",
    "explanation",
    "source",
    "tags",
    "difficulty",
    "bloom",
    "note",
    "lint_ignore",
}


@dataclass
class PassageDoc:
    """One paragraph of an essay file."""

    anchor: str
    section: str | None
    text: str


@dataclass
class EssayDoc:
    """An essay as read from content/essays/."""

    slug: str
    title: str
    passages: list[PassageDoc]
    path: str
    line: int = 1


@dataclass
class SourceDoc:
    """A quote a question cites, and (once found) the anchor of its passage."""

    essay: str
    quote: str
    line: int
    anchor: str = ""  # filled in when the quote is found


@dataclass
class QuestionDoc:
    """A validated question; `data` is the type-specific answer data stored as JSON."""

    id: str
    type: str
    prompt: str
    data: dict[str, Any]
    explanation: str
    sources: list[SourceDoc]
    tags: list[str]
    difficulty: str
    bloom: str
    note: str | None
    essay: str
    path: str
    line: int
    lint_ignore: dict[str, str] = field(default_factory=dict)
    prompt_line: int = 0
    options_line: int = 0
    # The line of each of the question's own keys (`text`, `pairs`, ...), for lint.
    key_lines: dict[str, int] = field(default_factory=dict)

    def content_hash(self, titles: dict[str, str] | None = None) -> str:
        """A digest of everything authored, to detect changes between loads.

        `titles` (essay slug -> title) folds in the titles of the cited essays, which
        the question's exports show: renaming an essay counts as a change.
        """
        titles = titles or {}
        payload = {
            "titles": sorted(
                {titles.get(slug, "") for slug in {self.essay, *self._cited()}}
            ),
            "type": self.type,
            "prompt": self.prompt,
            "data": self.data,
            "explanation": self.explanation,
            "sources": [(s.essay, s.anchor, s.quote) for s in self.sources],
            "tags": sorted(self.tags),
            "difficulty": self.difficulty,
            "bloom": self.bloom,
            "note": self.note,
            "essay": self.essay,
        }
        return _digest(payload)

    def _cited(self) -> set[str]:
        return {source.essay for source in self.sources}


@dataclass
class QuizDoc:
    """A validated quiz definition."""

    slug: str
    title: str
    description: str
    mode: str
    rule: dict[str, list[str]]
    count: int | None
    path: str
    line: int
    rule_lines: dict[str, int] = field(default_factory=dict)

    def content_hash(self) -> str:
        """A digest of the definition, to detect changes between loads."""
        return _digest([self.title, self.description, self.mode, self.rule, self.count])


def _digest(payload: Any) -> str:
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()


class Checker:
    """Collects located errors while reading one file's records."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self.errors: list[ContentError] = []

    def error(self, line: int | None, message: str, ident: str | None = None) -> None:
        """Record one problem at a line of this file."""
        self.errors.append(ContentError(self.path, line, message, ident))

    def keys(
        self,
        mapping: Mapping,
        required: set[str],
        optional: set[str],
        ident: str | None = None,
    ) -> None:
        """Report missing, unknown and repeated keys of a mapping."""
        for key, line, first in getattr(mapping, "duplicates", []):
            self.error(line, f"duplicate key {key!r} (first on line {first})", ident)
        for key in sorted(required - mapping.keys()):
            self.error(mapping.line, f"missing field '{key}'", ident)
        for key in mapping:
            if key not in required | optional:
                self.error(mapping.line_of(key), f"unknown field '{key}'", ident)

    def text(
        self, mapping: Mapping, key: str, ident: str | None, optional: bool = False
    ) -> str | None:
        """A required (or optional) non-empty string field."""
        if key not in mapping or mapping[key] is None:
            if not optional and key in mapping:
                self.error(mapping.line_of(key), f"'{key}' must not be empty", ident)
            return None
        value = mapping[key]
        if not isinstance(value, str):
            self.error(
                mapping.line_of(key),
                f"'{key}' must be text, got {_yaml_kind(value)} {value!r}"
                " (put it in quotes)",
                ident,
            )
            return None
        value = value.strip()
        if not value:
            self.error(mapping.line_of(key), f"'{key}' must not be empty", ident)
            return None
        return value

    def choice(
        self, mapping: Mapping, key: str, allowed: tuple[str, ...], ident: str | None
    ) -> str | None:
        """A text field whose value must be one of `allowed`."""
        value = self.text(mapping, key, ident)
        if value is not None and value not in allowed:
            self.error(
                mapping.line_of(key),
                f"'{key}' must be one of {', '.join(allowed)}, not {value!r}",
                ident,
            )
            return None
        return value

    def mapping_list(
        self, mapping: Mapping, key: str, ident: str | None
    ) -> list[Mapping]:
        """A list whose items are all mappings."""
        value = mapping.get(key)
        if not isinstance(value, list) or not value:
            self.error(mapping.line_of(key), f"'{key}' must be a non-empty list", ident)
            return []
        items = []
        for item in value:
            if isinstance(item, Mapping):
                items.append(item)
            else:
                self.error(
                    mapping.line_of(key),
                    f"each entry of '{key}' must be a mapping, got {_yaml_kind(item)}",
                    ident,
                )
        return items

    def text_list(
        self, mapping: Mapping, key: str, ident: str | None, required: bool = True
    ) -> list[str]:
        """A list of non-empty strings."""
        if key not in mapping:
            if required:
                self.error(mapping.line, f"missing field '{key}'", ident)
            return []
        value = mapping[key]
        if value is None:
            value = []
        if not isinstance(value, list):
            self.error(mapping.line_of(key), f"'{key}' must be a list", ident)
            return []
        result = []
        for item in value:
            if not isinstance(item, str) or not item.strip():
                self.error(
                    mapping.line_of(key),
                    f"each entry of '{key}' must be text, got {_yaml_kind(item)} "
                    f"{item!r} (put it in quotes)",
                    ident,
                )
            else:
                result.append(item.strip())
        if required and not result and value == []:
            self.error(mapping.line_of(key), f"'{key}' must not be empty", ident)
        return result


def read_essay(raw: Any, path: Path) -> tuple[EssayDoc | None, list[ContentError]]:
    """Validate one essay file."""
    check = Checker(path)
    if not isinstance(raw, Mapping):
        check.error(1, "an essay file must be a mapping with slug, title, passages")
        return None, check.errors
    check.keys(raw, {"slug", "title", "passages"}, set())
    slug = check.text(raw, "slug", None)
    if slug and not ID_RE.match(slug):
        check.error(raw.line_of("slug"), f"slug {slug!r} must be kebab-case")
    title = check.text(raw, "title", slug)
    passages: list[PassageDoc] = []
    seen: dict[str, int] = {}
    for item in check.mapping_list(raw, "passages", slug):
        check.keys(item, {"anchor", "text"}, {"section"}, slug)
        anchor = check.text(item, "anchor", slug)
        text = check.text(item, "text", slug)
        section = check.text(item, "section", slug, optional=True)
        if anchor and anchor in seen:
            check.error(
                item.line_of("anchor"),
                f"duplicate anchor {anchor!r} (first on line {seen[anchor]})",
                slug,
            )
        elif anchor and not ID_RE.match(anchor):
            check.error(item.line_of("anchor"), "anchor must be kebab-case", slug)
        if anchor:
            seen[anchor] = item.line_of("anchor")
        if anchor and text:
            passages.append(PassageDoc(anchor, section, text))
    if check.errors or not slug or not title:
        return None, check.errors
    return EssayDoc(slug, title, passages, str(path), raw.line), check.errors


def read_questions(
    raw: Any, path: Path
) -> tuple[list[QuestionDoc], list[ContentError]]:
    """Validate one questions file (`essay:` default and a `questions:` list)."""
    check = Checker(path)
    if not isinstance(raw, Mapping):
        check.error(1, "a questions file must be a mapping with essay and questions")
        return [], check.errors
    check.keys(raw, {"essay", "questions"}, set())
    default_essay = check.text(raw, "essay", None) or ""
    docs = []
    for item in check.mapping_list(raw, "questions", None):
        doc = _read_question(check, item, default_essay)
        if doc:
            docs.append(doc)
    return docs, check.errors


def _read_question(
    check: Checker, item: Mapping, default_essay: str
) -> QuestionDoc | None:
    before = len(check.errors)
    ident = item.get("id") if isinstance(item.get("id"), str) else None
    qtype = check.choice(item, "type", TYPES, ident)
    kind = REGISTRY.get(qtype or "")
    type_keys = set(kind.keys) if kind else set()
    prompt_optional = kind is not None and not kind.prompt_required
    required = {"id", "type", "explanation", "source", "tags", "difficulty", "bloom"}
    required |= set() if prompt_optional else {"prompt"}
    required |= type_keys - (kind.optional_keys if kind else set())
    check.keys(item, required, (COMMON_KEYS | type_keys) - required, ident)
    qid = check.text(item, "id", None)
    if qid and not ID_RE.match(qid):
        check.error(item.line_of("id"), f"id {qid!r} must be kebab-case", qid)
    ident = qid or ident
    prompt = check.text(item, "prompt", ident, optional=prompt_optional)
    explanation = check.text(item, "explanation", ident)
    note = check.text(item, "note", ident, optional=True)
    difficulty = check.choice(item, "difficulty", DIFFICULTIES, ident)
    bloom = check.choice(item, "bloom", BLOOM_LEVELS, ident)
    tags = check.text_list(item, "tags", ident)
    for tag in tags:
        if not ID_RE.match(tag):
            check.error(item.line_of("tags"), f"tag {tag!r} must be kebab-case", ident)
    sources = []
    for source in check.mapping_list(item, "source", ident):
        check.keys(source, {"quote"}, {"essay"}, ident)
        quote = check.text(source, "quote", ident)
        essay = check.text(source, "essay", ident, optional=True) or default_essay
        if quote:
            sources.append(SourceDoc(essay, quote, source.line_of("quote")))
    lint_ignore = _read_lint_ignore(check, item, ident)
    data = kind.read(check, item, ident or "") if kind else None
    if kind and prompt_optional and not prompt:
        prompt = kind.default_prompt
    if len(check.errors) > before or not (qid and qtype and data is not None):
        return None
    return QuestionDoc(
        id=qid,
        type=qtype,
        prompt=prompt or "",
        data=data,
        explanation=explanation or "",
        sources=sources,
        tags=tags,
        difficulty=difficulty or "",
        bloom=bloom or "",
        note=note,
        essay=default_essay,
        path=check.path,
        line=item.line,
        lint_ignore=lint_ignore,
        prompt_line=item.line_of("prompt"),
        options_line=item.line_of("options"),
        key_lines=dict(item.key_lines),
    )


def _read_lint_ignore(
    check: Checker, item: Mapping, ident: str | None
) -> dict[str, str]:
    raw = item.get("lint_ignore")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        check.error(
            item.line_of("lint_ignore"),
            "'lint_ignore' must map a lint code to its reason",
            ident,
        )
        return {}
    for key, line, first in raw.duplicates:
        check.error(line, f"duplicate key {key!r} (first on line {first})", ident)
    result = {}
    for code in raw:
        if code not in LINT_CODES:
            check.error(
                raw.line_of(code),
                f"unknown lint code {code!r} (one of {', '.join(LINT_CODES)})",
                ident,
            )
        reason = check.text(raw, code, ident)
        if reason:
            result[code] = reason
    return result


def read_quizzes(raw: Any, path: Path) -> tuple[list[QuizDoc], list[ContentError]]:
    """Validate one quizzes file (a `quizzes:` list)."""
    check = Checker(path)
    if not isinstance(raw, Mapping):
        check.error(1, "a quizzes file must be a mapping with a 'quizzes' list")
        return [], check.errors
    check.keys(raw, {"quizzes"}, set())
    docs = []
    for item in check.mapping_list(raw, "quizzes", None):
        before = len(check.errors)
        ident = item.get("slug") if isinstance(item.get("slug"), str) else None
        check.keys(
            item,
            {"slug", "title", "description", "mode"},
            {"essays", "tags", "types", "questions", "count"},
            ident,
        )
        slug = check.text(item, "slug", ident)
        if slug and not ID_RE.match(slug):
            check.error(item.line_of("slug"), "slug must be kebab-case", slug)
        title = check.text(item, "title", ident)
        description = check.text(item, "description", ident)
        mode = check.choice(item, "mode", MODES, ident)
        rule = {
            key: check.text_list(item, key, ident, required=False)
            for key in ("essays", "tags", "types", "questions")
        }
        for qtype in rule["types"]:
            if qtype not in TYPES:
                check.error(item.line_of("types"), f"unknown type {qtype!r}", ident)
        count = item.get("count")
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or count < 1
        ):
            check.error(
                item.line_of("count"), "'count' must be a whole number above 0", ident
            )
        if len(check.errors) == before and slug and title and description and mode:
            docs.append(
                QuizDoc(
                    slug,
                    title,
                    description,
                    mode,
                    rule,
                    count,
                    check.path,
                    item.line,
                    {key: item.line_of(key) for key in rule},
                )
            )
    return docs, check.errors
