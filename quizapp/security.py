"""Safe defaults: security headers on every response, and production start-up checks."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.wrappers import Response

CSP = (
    "default-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)
WEAK_KEYS = {"", "dev", "dev-only-change-me", "secret", "changeme", "change-me"}


class UnsafeConfiguration(RuntimeError):
    """Production was asked to start with settings that would put learners at risk."""


def init_app(app: Flask) -> None:
    """Check production settings now; add security headers to every response."""
    if app.config.get("PRODUCTION"):
        check_production(app)
    app.after_request(_headers)


def check_production(app: Flask) -> None:
    """Refuse a missing or weak SECRET_KEY and debug mode in production."""
    key = str(app.config.get("SECRET_KEY") or "")
    if key.lower() in WEAK_KEYS or len(key) < 32:
        raise UnsafeConfiguration(
            "SECRET_KEY is missing or weak: set a random value of 32+ characters, "
            "e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if app.debug:
        raise UnsafeConfiguration("Debug mode must be off in production (FLASK_DEBUG).")


# No view sets these itself, so they are appended without a look-up each
# (Headers.setdefault scans the list once per header, on every response).
EVERY_RESPONSE = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
]
HTML_RESPONSE = [*EVERY_RESPONSE, ("Content-Security-Policy", CSP)]


def _headers(response: Response) -> Response:
    headers = response.headers
    html = response.mimetype == "text/html"
    headers.extend(HTML_RESPONSE if html else EVERY_RESPONSE)
    if request.path.startswith("/attempts/"):
        # Answers and reviews are personal: never keep them in a shared cache.
        headers["Cache-Control"] = "no-store"
    return response
