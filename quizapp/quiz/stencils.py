"""`render(page)`: a page's template rendered once per shape, then filled per request.

A page is a frozen dataclass naming its template (`TEMPLATE`) and which of its
fields decide the page's shape (`SHAPE`: the template branches on them or loops
over them; they are passed as they are and key the stencil). Every other field is
a value: the template is rendered once with a marker in place of each truthy value
(falsy ones, `0`, `""`, None, False, are passed as they are and key the stencil
too, so `{% if value %}` behaves as in plain Jinja); the result is split at the
markers and each request joins it with its values, escaped as Jinja escapes them.
A tuple value becomes one marker per item. Fields named in `BAKED` (optional) are
passed as they are without keying the stencil: content that `version` and SHAPE
already determine (a page of quiz cards).

The contract (a template prints a value; it never filters it, compares it or
branches on a truthy one) is checked, not trusted: under TESTING or DEBUG every
page is also rendered the plain Jinja way with the real values, and a difference
raises StencilMismatch, so a template edit that breaks it fails the tests.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Hashable, Mapping
from typing import Any, ClassVar, Protocol

from flask import current_app, render_template, request
from markupsafe import Markup, escape

from .cache import content_cache

# Autoescaping turns every "<" of a value into "&lt;", so no content can forge one.
_HOLE = re.compile(r"<!--hole:(\w+)-->")
_NAME = re.compile(r"\w+", re.ASCII)


class Page(Protocol):
    """What render() needs of a page dataclass."""

    TEMPLATE: ClassVar[str]
    SHAPE: ClassVar[tuple[str, ...]]


class StencilMismatch(AssertionError):
    """A pre-rendered page differs from the plain rendering: the template computes
    with a value instead of printing it (move what it branches on into SHAPE)."""


class Stencil:
    """A rendered page split at its holes."""

    def __init__(self, html: str) -> None:
        """Split `html` into fixed text and hole names."""
        pieces = _HOLE.split(html)
        self.names = pieces[1::2]
        # Where each hole's value is: a field, or item `index` of a tuple field.
        self._holes: list[tuple[int, str, int | None]] = []
        for position, name in enumerate(self.names):
            field, _, index = name.partition("__")
            self._holes.append((2 * position + 1, field, int(index) if index else None))
        # The fixed text in place, None where each hole goes (odd indexes).
        self._pieces: list[str | None] = list(pieces)
        for index in range(1, len(pieces), 2):
            self._pieces[index] = None

    def fill(self, values: Mapping[str, Any]) -> str:
        """The page with each hole replaced by its value, escaped as Jinja would."""
        out = self._pieces.copy()
        for position, field, index in self._holes:
            value = values[field]
            out[position] = escape(value if index is None else value[index])
        return "".join(out)  # type: ignore[arg-type]


def hole(name: str) -> Markup:
    """The marker a stencil holds where value `name` goes (a word: [A-Za-z0-9_])."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"a hole's name is a word, not {name!r}")
    # Safe as markup: a constant shape around a name checked to be a word.
    return Markup(f"<!--hole:{name}-->")  # noqa: S704  # nosec B704


_SPECS: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _spec(cls: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    spec = _SPECS.get(cls)
    if spec is None:
        names = tuple(f.name for f in dataclasses.fields(cls))
        shape: tuple[str, ...] = cls.SHAPE  # type: ignore[attr-defined]
        baked: tuple[str, ...] = getattr(cls, "BAKED", ())
        unknown = (set(shape) | set(baked)) - set(names)
        if unknown:
            raise TypeError(f"{cls.__name__} names no such field: {sorted(unknown)}")
        if any("__" in name for name in names):
            raise TypeError(f"{cls.__name__}: '__' in a field name is the holes' own")
        fixed = set(shape) | set(baked)
        spec = (shape, tuple(n for n in names if n not in fixed))
        _SPECS[cls] = spec
    return spec


def render(page: Any, version: str = "") -> str:
    """The HTML of `page` (a dataclass with TEMPLATE and SHAPE), from its stencil.

    `version` is the content version when the shape bakes content in (a page of
    quiz cards): the stencil is then rebuilt after a content load.
    """
    shape_names, value_names = _spec(type(page))
    fields = page.__dict__
    shape = tuple([fields[n] for n in shape_names])
    # Falsy values are passed as they are: they key the stencil (with each tuple's
    # length and its falsy items); truthy ones become holes.
    baked: list[Hashable] = []
    for name in value_names:
        value = fields[name]
        if not value:
            baked.append((name, value if isinstance(value, Hashable) else repr(value)))
        elif type(value) is tuple:
            falsy = tuple((i, item) for i, item in enumerate(value) if not item)
            baked.append((name, len(value), falsy))
    template = page.TEMPLATE
    key = ("stencil", template, request.script_root, shape, tuple(baked))
    stencil = content_cache().get(
        version or None, key, lambda: _stencil(page, template, value_names)
    )
    html = stencil.fill(fields)
    if current_app.testing or current_app.debug:
        _check(page, template, html)
    return html


def render_plain(page: Any, **extra: Any) -> str:
    """The HTML of `page` rendered the plain Jinja way (pages with form errors)."""
    context = {f.name: getattr(page, f.name) for f in dataclasses.fields(page)}
    return render_template(page.TEMPLATE, **context, **extra)


def _stencil(page: Any, template: str, value_names: tuple[str, ...]) -> Stencil:
    context = {f.name: getattr(page, f.name) for f in dataclasses.fields(page)}
    for name in value_names:
        value = context[name]
        if not value:
            continue
        if type(value) is tuple:
            context[name] = tuple(
                hole(f"{name}__{i}") if item else item for i, item in enumerate(value)
            )
        else:
            context[name] = hole(name)
    return Stencil(render_template(template, **context))


def _check(page: Any, template: str, html: str) -> None:
    plain = render_plain(page)
    if plain != html:
        diff = "\n".join(
            difflib.unified_diff(
                plain.splitlines(), html.splitlines(), "plain", "stencil", lineterm=""
            )
        )
        raise StencilMismatch(f"{template} ({type(page).__name__}):\n{diff[:3000]}")
