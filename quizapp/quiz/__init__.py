"""Stage 2a: taking quizzes in the browser."""

from typing import Any

from flask import Flask, request, url_for
from werkzeug.routing import BaseConverter


class TokenConverter(BaseConverter):
    """An attempt id: URL-safe base64 only, so junk (NUL, ...) is a routing 404."""

    regex = r"[A-Za-z0-9_-]{1,64}"


class SlugConverter(BaseConverter):
    """A content slug: kebab-case only."""

    regex = r"[a-z0-9][a-z0-9-]{0,99}"


def init_app(app: Flask) -> None:
    """Register the URL converters and the quiz blueprint."""
    app.url_map.converters["token"] = TokenConverter
    app.url_map.converters["slug"] = SlugConverter
    from .routes import bp

    app.register_blueprint(bp)
    app.context_processor(site_links)


# The links every page's header carries, built once per mount point (script root)
# rather than by url_for on every render.
_LINKS: dict[str, dict[str, str]] = {}


def site_links() -> dict[str, Any]:
    """`links`: the site-wide URLs for templates (static files, main pages)."""
    links = _LINKS.get(request.script_root)
    if links is None:
        links = {
            "favicon": url_for("static", filename="favicon.svg"),
            "style": url_for("static", filename="style.css"),
            "script": url_for("static", filename="app.js"),
            "catalogue": url_for("quiz.catalogue"),
            "builder": url_for("quiz.builder"),
            "deck_bank": url_for("quiz.deck_bank"),
        }
        _LINKS[request.script_root] = links
    return {"links": links}
