"""URLs the pages print, built once per endpoint and mount point instead of per page.

url_for costs microseconds that the question page cannot spare several times over;
an attempt page's URL is built once with markers where the attempt id and question
number go (ids are URL-safe by their rule), and kept in the app's content cache.
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for

from .cache import content_cache

_ID_MARK, _NUMBER_MARK = "attempt_id_mark", 987654321


def attempt_url(endpoint: str, attempt_id: str, number: int | None = None) -> str:
    """url_for(endpoint, attempt_id=..., number=...) for the attempt pages."""
    key = ("url", endpoint, request.script_root, number is None)
    template = content_cache().get(None, key, lambda: _template(endpoint, number))
    return template.format(attempt_id, number)


def _template(endpoint: str, number: int | None) -> str:
    kwargs: dict[str, Any] = {"attempt_id": _ID_MARK}
    if number is not None:
        kwargs["number"] = _NUMBER_MARK
    built = url_for(endpoint, **kwargs).replace("{", "{{").replace("}", "}}")
    return built.replace(_ID_MARK, "{0}").replace(str(_NUMBER_MARK), "{1}")


def site_links() -> dict[str, Any]:
    """`links`: the site-wide URLs for templates (static files, main pages)."""
    key = ("links", request.script_root)
    return {"links": content_cache().get(None, key, _links)}


def _links() -> dict[str, str]:
    return {
        "favicon": url_for("static", filename="favicon.svg"),
        "style": url_for("static", filename="style.css"),
        "script": url_for("static", filename="app.js"),
        "catalogue": url_for("quiz.catalogue"),
        "builder": url_for("quiz.builder"),
        "deck_bank": url_for("quiz.deck_bank"),
        "study": url_for("study.study"),
        "progress": url_for("study.progress_page"),
    }
