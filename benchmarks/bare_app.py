"""A bare Flask app answering the benchmark's URLs with bodies of the measured sizes.

The baseline of benchmarks/web.py: `gunicorn "bare_app:create_app()"` under the very
same gunicorn settings as the real app. BARE_APP_SPEC names a JSON file listing, per
measured request, its method, path, status, body size, content type and (for
redirects) location. An HTML page is rendered on every request with Flask's
render_template from one compiled Jinja template (a loop over paragraphs), sized at
start-up to exactly the real page's byte count; a download is bytes of the same
length and content type; a form post parses the form and redirects with Werkzeug's
redirect body (the real app's redirect body, byte for byte). No database, no session,
no forms: what is left is Flask, Werkzeug, Jinja and gunicorn.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, Response, redirect, render_template, request
from jinja2 import Template

PAGE_TEMPLATE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ title }}</title></head>
<body>
<main>
{% for paragraph in paragraphs %}<p>{{ paragraph }}</p>
{% endfor %}</main>
</body>
</html>
"""
PARAGRAPH = (
    "Peacekeeping missions monitor ceasefires, protect civilians and support "
    "the political process that should make them unnecessary. "
) * 2


def filler_context(template: Template, size: int) -> dict[str, Any]:
    """Template variables that render an ASCII page of exactly `size` bytes."""

    def length(title: str, paragraphs: list[str]) -> int:
        return len(template.render(title=title, paragraphs=paragraphs).encode())

    title, paragraphs = "Bare page", []
    if length(title, paragraphs) > size:
        raise ValueError(f"a page of {size} bytes is smaller than the template")
    while length(title, [*paragraphs, PARAGRAPH]) <= size:
        paragraphs.append(PARAGRAPH)
    title += "." * (size - length(title, paragraphs))
    if length(title, paragraphs) != size:
        raise ValueError(f"cannot render a page of exactly {size} bytes")
    return {"title": title, "paragraphs": paragraphs}


def filler_bytes(size: int) -> bytes:
    """Bytes of the given length (a download of the same size)."""
    pattern = bytes(range(256))
    return (pattern * (size // len(pattern) + 1))[:size]


def _view(page: dict[str, Any], template: Template) -> Callable[[], Response]:
    status = int(page["status"])
    if 300 <= status < 400:
        location = str(page["location"])

        def redirecting() -> Response:
            request.form  # noqa: B018 - parse the posted form, as a real view would
            return redirect(location, code=status)

        return redirecting
    mimetype = str(page["content_type"]).split(";")[0]
    if mimetype.startswith("text/"):
        context = filler_context(template, int(page["size"]))

        def render() -> Response:
            body = render_template(template, **context)
            return Response(body, status=status, mimetype=mimetype)

        return render
    data = filler_bytes(int(page["size"]))

    def download() -> Response:
        return Response(data, status=status, mimetype=mimetype)

    return download


def create_app(spec_path: str | None = None) -> Flask:
    """The bare app for the pages listed in the spec file (default: $BARE_APP_SPEC)."""
    path = Path(spec_path or os.environ["BARE_APP_SPEC"])
    spec = json.loads(path.read_text(encoding="utf-8"))
    app = Flask(__name__)
    template = app.jinja_env.from_string(PAGE_TEMPLATE)
    for index, page in enumerate(spec["pages"]):
        app.add_url_rule(
            page["path"],
            endpoint=f"page_{index}",
            view_func=_view(page, template),
            methods=[page["method"]],
        )
    return app
