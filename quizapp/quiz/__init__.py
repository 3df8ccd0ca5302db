"""Stage 2a: taking quizzes in the browser."""

from flask import Flask
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
