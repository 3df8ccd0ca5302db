"""Stage 2a: taking quizzes in the browser."""

from flask import Flask, abort, request
from werkzeug.routing import BaseConverter

from . import cache
from .urls import site_links


class TokenConverter(BaseConverter):
    """An attempt id: URL-safe base64 only, so junk (NUL, ...) is a routing 404."""

    regex = r"[A-Za-z0-9_-]{1,64}"


class SlugConverter(BaseConverter):
    """A content slug: kebab-case only."""

    regex = r"[a-z0-9][a-z0-9-]{0,99}"


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def forms_only() -> None:
    """Refuse a POST that is not an HTML form (JSON, ...) before anything reads it."""
    mimetype = request.mimetype
    if request.method == "POST" and mimetype and mimetype not in FORM_TYPES:
        abort(415, "Send answers from the quiz page's form.")


def init_app(app: Flask) -> None:
    """Register the content cache, URL converters and the quiz blueprint."""
    cache.init_app(app)
    app.url_map.converters["token"] = TokenConverter
    app.url_map.converters["slug"] = SlugConverter
    from .routes import bp

    # Before CSRFProtect's own check (security.init_app runs after this).
    app.before_request(forms_only)
    app.register_blueprint(bp)
    app.context_processor(site_links)
