"""Pages rendered by Jinja once per shape, then filled in per request.

A page's template is rendered once with a marker in place of every per-request
value (the learner's progress, a CSRF token, a cached fragment of HTML) and split
at the markers; each request then joins the fixed text with its values, escaped as
Jinja would escape them. The templates stay ordinary Jinja: rendered with real
values they give the same page, which is how the rare pages (a form with errors)
are still rendered.

What selects a stencil (its key): the template, the site's mount point, the
content version when content is baked in, the `flags` the template branches on,
and which values are present (None and False are absent, so `{% if value %}`
branches are part of the shape). A template must only print the values it
receives as holes, never compute with them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from flask import render_template, request
from markupsafe import Markup, escape

# Autoescaping turns every "<" of a value into "&lt;", so no content can forge one.
_HOLE = re.compile(r"<!--hole:(\w+)-->")
_NAME = re.compile(r"\w+", re.ASCII)


class Stencil:
    """A rendered page split at its holes."""

    def __init__(self, html: str) -> None:
        """Split `html` into fixed text and hole names."""
        pieces = _HOLE.split(html)
        self.texts = pieces[0::2]
        self.names = pieces[1::2]
        # The fixed text in place, None where each hole goes (odd indexes).
        self._pieces: list[str | None] = list(pieces)
        for index in range(1, len(pieces), 2):
            self._pieces[index] = None

    def fill(self, values: Mapping[str, Any]) -> str:
        """The page with each hole replaced by its escaped value.

        Each value is escaped once, however many holes print it.
        """
        escaped = {name: escape(value) for name, value in values.items()}
        out = self._pieces.copy()
        for index, name in enumerate(self.names):
            out[2 * index + 1] = escaped[name]
        return "".join(out)  # type: ignore[arg-type]


def hole(name: str) -> Markup:
    """The marker a template prints where value `name` goes (a word: [A-Za-z0-9_])."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"a hole's name is a word, not {name!r}")
    # Safe as markup: a constant shape around a name checked to be a word.
    return Markup(f"<!--hole:{name}-->")  # noqa: S704  # nosec B704


_STENCILS: dict[Hashable, Stencil] = {}
_STENCILS_MAX = 2_000
_LOCK = threading.Lock()


def render(
    template: str,
    flags: Mapping[str, Hashable],
    values: Mapping[str, Any],
    version: str = "",
    baked: Callable[[], Mapping[str, Any]] | None = None,
) -> str:
    """Render `template` with `flags` and `values`, from a cached stencil.

    `baked` makes more context for the first rendering only (it is not called when
    the stencil is cached): what `version` and `flags` determine (a page of quiz
    cards, say), and hole markers for values that a loop prints (stencils.hole).
    """
    # A call site passes its values and flags in one order: no sorting needed.
    present = tuple(k for k, v in values.items() if v is not None and v is not False)
    key = (template, request.script_root, version, tuple(flags.items()), present)
    stencil = _STENCILS.get(key)
    if stencil is None:
        context = {
            **(baked() if baked else {}),
            **{k: (hole(k) if k in present else v) for k, v in values.items()},
            **flags,
        }
        stencil = Stencil(render_template(template, **context))
        with _LOCK:
            if len(_STENCILS) >= _STENCILS_MAX:
                _STENCILS.clear()  # old content versions' pages
            _STENCILS[key] = stencil
    return stencil.fill(values)
