"""Validate parsed content files into plain records, collecting every located error."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .yamlio import ContentError, Mapping

ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
BLANK_RE = re.compile(r"\[\[(.*?)\]\]")
TYPES = (
    "single_choice",
    "multiple_response",
    "true_false",
    "cloze",
    "short_answer",
    "matching",
)
DIFFICULTIES = ("easy", "medium", "hard")
BLOOM_LEVELS = ("remember", "understand", "apply", "analyze")
MODES = ("practice", "exam")
LINT_CODES = (
    "stem-incomplete",
    "key-longest",
    "option-count",
    "key-position",
    "key-longest-share",
    "stem-key-overlap",
    "tf-cue",
    "tf-balance",
    "matching-size",
    "multi-essay-prompt",
    "bloom-scenario",
)
MIN_PAIRS, MAX_PAIRS = 3, 6
MAX_SPARES = 3
MAX_ANY_ORDER_BLANKS = 6
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
TYPE_KEYS = {
    "single_choice": {"options"},
    "multiple_response": {"options"},
    "true_false": {"answer", "feedback"},
    "cloze": {"text", "any_order"},
    "short_answer": {"answers"},
    "matching": {"pairs", "spares"},
}
# Keys a type may leave out: required = TYPE_KEYS - OPTIONAL_TYPE_KEYS.
OPTIONAL_TYPE_KEYS = {"feedback", "any_order", "spares"}


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


def opaque_id(question_id: str, kind: str, text: str) -> str:
    """A stable id for an option or matching item that reveals nothing about the key."""
    digest = hashlib.blake2s(f"{question_id}\0{kind}\0{text}".encode(), digest_size=5)
    return digest.hexdigest()


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


def _yaml_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


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
    type_keys = TYPE_KEYS.get(qtype or "", set())
    required = {"id", "type", "explanation", "source", "tags", "difficulty", "bloom"}
    required |= {"prompt"} if qtype != "cloze" else set()
    required |= type_keys - OPTIONAL_TYPE_KEYS
    check.keys(item, required, (COMMON_KEYS | type_keys) - required, ident)
    qid = check.text(item, "id", None)
    if qid and not ID_RE.match(qid):
        check.error(item.line_of("id"), f"id {qid!r} must be kebab-case", qid)
    ident = qid or ident
    prompt = check.text(item, "prompt", ident, optional=qtype == "cloze")
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
    data = _read_answer_data(check, item, qtype, ident or "")
    if qtype == "cloze" and not prompt:
        prompt = "Fill in the blanks."
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


def _read_answer_data(
    check: Checker, item: Mapping, qtype: str | None, qid: str
) -> dict[str, Any] | None:
    if qtype in ("single_choice", "multiple_response"):
        return _read_options(check, item, qtype, qid)
    if qtype == "true_false":
        answer = item.get("answer")
        if not isinstance(answer, bool):
            check.error(
                item.line_of("answer"),
                f"'answer' must be true or false, got {_yaml_kind(answer)} {answer!r}",
                qid,
            )
            return None
        feedback = check.text(item, "feedback", qid, optional=True)
        return {
            "options": [
                {
                    "id": opaque_id(qid, "tf", str(value)),
                    "text": "True" if value else "False",
                    "correct": value is answer,
                    "feedback": None if value is answer else feedback,
                }
                for value in (True, False)
            ]
        }
    if qtype == "cloze":
        return _read_cloze(check, item, qid)
    if qtype == "short_answer":
        answers = check.text_list(item, "answers", qid)
        return {"answers": answers} if answers else None
    if qtype == "matching":
        return _read_pairs(check, item, qid)
    return None


def _read_options(
    check: Checker, item: Mapping, qtype: str, qid: str
) -> dict[str, Any] | None:
    options = []
    for option in check.mapping_list(item, "options", qid):
        check.keys(option, {"text"}, {"correct", "feedback", "plausible_but_true"}, qid)
        text = check.text(option, "text", qid)
        correct = option.get("correct", False)
        if not isinstance(correct, bool):
            check.error(
                option.line_of("correct"), "'correct' must be true or false", qid
            )
        feedback = check.text(option, "feedback", qid, optional=True)
        plausible = _read_plausible(check, option, correct is True, qid)
        if text:
            record = {
                "id": opaque_id(qid, "option", text),
                "text": text,
                "correct": correct is True,
                "feedback": feedback,
            }
            # Only when authored, so the stored data (and content hash) of every
            # option without the flag stays as it was.
            if plausible:
                record["plausible_but_true"] = plausible
            options.append(record)
    keys = sum(option["correct"] for option in options)
    if options and qtype == "single_choice" and keys != 1:
        check.error(
            item.line_of("options"),
            f"a single-choice question needs exactly one correct option, found {keys}",
            qid,
        )
    if options and qtype == "multiple_response" and not 0 < keys < len(options):
        check.error(
            item.line_of("options"),
            "a multiple-response question needs at least one correct and one "
            "incorrect option",
            qid,
        )
    if options and len(options) < 2:
        check.error(item.line_of("options"), "at least two options are needed", qid)
    return {"options": options} if options else None


def _read_plausible(
    check: Checker, option: Mapping, correct: bool, qid: str
) -> str | None:
    """The reason a distractor that is a true statement still misses this stem."""
    if "plausible_but_true" not in option:
        return None
    line = option.line_of("plausible_but_true")
    if correct:
        check.error(
            line,
            "'plausible_but_true' flags a distractor; it is not allowed on a "
            "'correct: true' option",
            qid,
        )
        return None
    if option["plausible_but_true"] is None:
        check.error(
            line,
            "'plausible_but_true' needs the reason the true statement does not "
            "answer this stem",
            qid,
        )
        return None
    return check.text(option, "plausible_but_true", qid)


def _fold(text: str) -> str:
    """Case and whitespace folded, as the duplicate checks compare text."""
    return re.sub(r"\s+", " ", text).strip().casefold()


def _read_cloze(check: Checker, item: Mapping, qid: str) -> dict[str, Any] | None:
    text = check.text(item, "text", qid)
    if not text:
        return None
    parts = BLANK_RE.split(text)
    blanks = []
    for raw in parts[1::2]:
        variants = [v.strip() for v in raw.split("|") if v.strip()]
        if not variants:
            check.error(item.line_of("text"), "a blank [[...]] is empty", qid)
        elif any("::" in v or "}}" in v or "{{" in v for v in variants):
            check.error(
                item.line_of("text"), "a blank must not contain '::', '{{' or '}}'", qid
            )
        blanks.append(variants)
    if not blanks:
        check.error(
            item.line_of("text"), "a cloze needs at least one blank [[answer]]", qid
        )
        return None
    if "[[" in "".join(parts[0::2]) or "]]" in "".join(parts[0::2]):
        check.error(item.line_of("text"), "unbalanced [[ ]] in cloze text", qid)
    data: dict[str, Any] = {"parts": parts[0::2], "blanks": blanks}
    if "any_order" in item:
        any_order = item["any_order"]
        if not isinstance(any_order, bool):
            check.error(
                item.line_of("any_order"),
                f"'any_order' must be true or false, got {_yaml_kind(any_order)} "
                f"{any_order!r}",
                qid,
            )
            return None
        if any_order and not 2 <= len(blanks) <= MAX_ANY_ORDER_BLANKS:
            # The grader tries every order of the typed blanks (6! = 720 at most).
            check.error(
                item.line_of("any_order"),
                f"'any_order' needs 2 to {MAX_ANY_ORDER_BLANKS} blanks, "
                f"found {len(blanks)}",
                qid,
            )
            return None
        # Stored only when true: an item without it keeps its data and content hash.
        if any_order:
            data["any_order"] = True
    return data


def _read_pairs(check: Checker, item: Mapping, qid: str) -> dict[str, Any] | None:
    pairs = []
    for pair in check.mapping_list(item, "pairs", qid):
        check.keys(pair, {"left", "right"}, set(), qid)
        left = check.text(pair, "left", qid)
        right = check.text(pair, "right", qid)
        if left and right:
            pairs.append(
                {
                    "id": opaque_id(qid, "left", left),
                    "left": left,
                    "right_id": opaque_id(qid, "right", right),
                    "right": right,
                }
            )
    if not MIN_PAIRS <= len(pairs) <= MAX_PAIRS:
        check.error(
            item.line_of("pairs"),
            f"matching needs {MIN_PAIRS} to {MAX_PAIRS} pairs, found {len(pairs)}",
            qid,
        )
        return None
    for kind in ("left", "right"):
        values = [_fold(p[kind]) for p in pairs]
        if len(set(values)) != len(values):
            check.error(item.line_of("pairs"), f"two pairs share a {kind} item", qid)
            return None
    data: dict[str, Any] = {"pairs": pairs}
    if "spares" in item:
        spares = _read_spares(check, item, pairs, qid)
        if spares is None:
            return None
        data["spares"] = spares
    return data


def _read_spares(
    check: Checker, item: Mapping, pairs: list[dict[str, str]], qid: str
) -> list[dict[str, str]] | None:
    """Extra right-hand answers that match no left item (CONTENT.md rule 17)."""
    line = item.line_of("spares")
    before = len(check.errors)
    texts = check.text_list(item, "spares", qid)
    if len(check.errors) > before:
        return None
    if not 1 <= len(texts) <= MAX_SPARES:
        check.error(
            line, f"'spares' holds 1 to {MAX_SPARES} answers, found {len(texts)}", qid
        )
        return None
    rights = {_fold(p["right"]) for p in pairs}
    seen: set[str] = set()
    for text in texts:
        folded = _fold(text)
        if folded in rights:
            check.error(line, f"spare {text!r} is also a pair's right-hand answer", qid)
        elif folded in seen:
            check.error(line, f"spare {text!r} is listed twice", qid)
        seen.add(folded)
    if len(check.errors) > before:
        return None
    # The same id scheme as a pair's right_id: in the page a spare is just one
    # more right-hand answer.
    return [{"id": opaque_id(qid, "right", text), "text": text} for text in texts]


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
