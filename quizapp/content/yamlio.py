"""Safe YAML reading that remembers line numbers and refuses duplicate keys."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from flask import current_app, has_app_context
from yaml.constructor import ConstructorError
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import MappingNode, ScalarNode

_STR = "tag:yaml.org,2002:str"


class ContentError(Exception):
    """A problem in a content file, located by file, line and (when known) id."""

    def __init__(
        self, path: str | Path, line: int | None, message: str, ident: str | None = None
    ) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        self.ident = ident
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line else "")
        who = f" [{self.ident}]" if self.ident else ""
        return f"{where}:{who} {self.message}"


class Mapping(dict[str, Any]):
    """A YAML mapping that knows the line of itself and of each of its keys."""

    line: int = 0
    key_lines: dict[str, int]
    # (key, line, first line) of each repeated key: PyYAML would keep the last one
    # silently; the validator reports them with the question id it knows.
    duplicates: list[tuple[str, int, int]]

    def line_of(self, key: str) -> int:
        """The 1-based line where `key` stands, or the mapping's own line."""
        return self.key_lines.get(key, self.line)


# libyaml's parser when present (several times faster on a large bank); the
# constructor stays the safe Python one either way.
_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeBase):  # type: ignore[misc, valid-type]
    """SafeLoader whose mappings are `Mapping`s and whose duplicate keys are errors."""


def _construct_mapping(loader: _Loader, node: MappingNode) -> Mapping:
    loader.flatten_mapping(node)
    mapping = Mapping()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    mapping.duplicates = []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise ConstructorError(
                None, None, f"key {key!r} must be text", key_node.start_mark
            )
        line = key_node.start_mark.line + 1
        if key in mapping:
            mapping.duplicates.append((key, line, mapping.key_lines[key]))
            continue
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = line
    return mapping


_Loader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


_IDENT = re.compile(r"^\s*-?\s*(?:id|slug):\s*['\"]?([A-Za-z0-9_-]+)")


def _ident_before(text: str, line: int | None) -> str | None:
    """The id (or slug) of the record a broken line most likely belongs to."""
    if not line:
        return None
    for candidate in reversed(text.splitlines()[:line]):
        match = _IDENT.match(candidate)
        if match:
            return match.group(1)
    return None


def read_yaml(path: Path, data: bytes | None = None) -> Any:
    """Parse one content file, turning any YAML problem into a located ContentError.

    `data` is the file's bytes when the caller has read them already.
    """
    try:
        # As Path.read_text decodes: UTF-8, universal newlines.
        raw = io.BytesIO(path.read_bytes() if data is None else data)
        text = io.TextIOWrapper(raw, encoding="utf-8").read()
    except UnicodeDecodeError as exc:
        raise ContentError(path, None, f"is not UTF-8 text ({exc.reason})") from exc
    try:
        return _load(text)
    except yaml.MarkedYAMLError as exc:
        line, message = locate_syntax_error(text, exc)
        ident = _ident_before(text, line)
        raise ContentError(path, line, f"YAML syntax: {message}", ident) from exc
    except yaml.YAMLError as exc:
        raise ContentError(path, None, f"YAML syntax: {exc}") from exc


class _Unusual(Exception):
    """More of YAML than the event reader builds: PyYAML's loader reads the file."""


def _load(text: str) -> Any:
    """What `yaml.load` with `_Loader` returns, built from the parser's events.

    The node tree and one constructor call per node cost more than parsing (1.8 s
    against 1.2 s for the 10,000-question bank). Only plain YAML is built this way:
    a tag, an anchor, a merge key, a non-text key, several documents or any error
    sends the file to PyYAML's loader, which then decides (and words any error).
    Under TESTING both run and must agree.
    """
    try:
        built, fast = _from_events(text), True
    except (_Unusual, yaml.YAMLError, ValueError):
        built, fast = None, False
    if fast and not (has_app_context() and current_app.testing):
        return built
    # _Loader subclasses SafeLoader: no arbitrary objects can be built.
    plain = yaml.load(text, Loader=_Loader)  # noqa: S506  # nosec B506
    if fast and not same_yaml(built, plain):
        raise AssertionError("the event reader and PyYAML's loader disagree")
    return plain


def _from_events(text: str) -> Any:
    loader = _Loader(text)
    try:
        get = loader.get_event
        if type(get()) is not StreamStartEvent or type(get()) is not DocumentStartEvent:
            raise _Unusual
        built = _build(loader, get, get())
        if type(get()) is not DocumentEndEvent or type(get()) is not StreamEndEvent:
            raise _Unusual
        return built
    finally:
        loader.dispose()


def _build(loader: _Loader, get: Callable[[], Event], event: Event) -> Any:
    kind = type(event)
    if event.anchor is not None or kind is AliasEvent or event.tag is not None:
        raise _Unusual
    if kind is ScalarEvent:
        return _scalar(loader, event)
    if kind is SequenceStartEvent:
        items = []
        while type(event := get()) is not SequenceEndEvent:
            items.append(_build(loader, get, event))
        return items
    if kind is not MappingStartEvent:
        raise _Unusual
    mapping = Mapping()
    mapping.line = event.start_mark.line + 1
    lines: dict[str, int] = {}
    mapping.key_lines = lines
    mapping.duplicates = []
    while type(event := get()) is not MappingEndEvent:
        if type(event) is not ScalarEvent or event.anchor or event.tag is not None:
            raise _Unusual
        key = _scalar(loader, event)
        if type(key) is not str:
            raise _Unusual
        line = event.start_mark.line + 1
        value = _build(loader, get, get())
        if key in mapping:
            mapping.duplicates.append((key, line, lines[key]))
            continue
        mapping[key] = value
        lines[key] = line
    return mapping


def _scalar(loader: _Loader, event: ScalarEvent) -> Any:
    if not event.implicit[0]:  # quoted: always text
        return event.value
    tag = loader.resolve(ScalarNode, event.value, event.implicit)
    if tag == _STR:
        return event.value
    node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    return loader.construct_object(node)


def same_yaml(one: Any, other: Any) -> bool:
    """Whether two parsed files are equal, types and line records included."""
    if type(one) is not type(other):
        return False
    if isinstance(one, Mapping):
        return (
            (one.line, one.key_lines, one.duplicates)
            == (other.line, other.key_lines, other.duplicates)
            and list(one) == list(other)
            and all(same_yaml(one[key], other[key]) for key in one)
        )
    if isinstance(one, list):
        return len(one) == len(other) and all(map(same_yaml, one, other))
    return bool(one == other)


def locate_syntax_error(text: str, exc: yaml.MarkedYAMLError) -> tuple[int | None, str]:
    """The 1-based line a person should look at, and what to tell them there.

    PyYAML's problem_mark is where the parser gave up, which for a missing closing
    quote is far below the cause. Two cases point back at the quoted value: the
    file ended inside it (the scanner's context_mark is the value's start), or it
    swallowed lines up to the next quote character and the parser then tripped on
    what followed (the last token before the problem is a quoted scalar that
    starts on an earlier line).
    """
    problem = exc.problem or exc.context or "invalid YAML"
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    context = exc.context or ""
    if context.startswith("while scanning a quoted scalar") and exc.context_mark:
        start = exc.context_mark.line + 1
        return start, (
            "the quoted value starting on this line runs to the end of the file "
            "(a missing closing quote?)"
        )
    if exc.problem_mark is not None:
        start = _quoted_scalar_before(text, exc.problem_mark.index)
        if start is not None and start < (line or 0):
            return start, (
                f"the quoted value starting on this line runs on to line {line} "
                f"(a missing closing quote?), where the parser found: {problem}"
            )
    return line, problem


def _quoted_scalar_before(text: str, index: int) -> int | None:
    """The start line of the token just before `index`, if it is a quoted scalar."""
    last: yaml.Token | None = None
    try:
        # The pure-Python scanner: tokens with marks, and no parsing, so it runs on
        # past the parser's error; only the tokens before the problem count.
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.index >= index:
                break
            last = token
    except yaml.YAMLError:
        pass
    if isinstance(last, yaml.ScalarToken) and last.style in ("'", '"'):
        return last.start_mark.line + 1
    return None
