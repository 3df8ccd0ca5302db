"""Safe defaults: security and caching headers, CSRF, and production start-up checks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request

from .extensions import csrf

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

CSP = (
    "default-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)
WEAK_KEYS = {"", "dev", "dev-only-change-me", "secret", "changeme", "change-me"}


class UnsafeConfiguration(RuntimeError):
    """Production was asked to start with settings that would put learners at risk."""


def init_app(app: Flask) -> None:
    """Check production settings now; CSRF on every POST; headers on every response.

    Call after the views are registered: Flask-WTF's CSRFProtect checks every
    POST before its view runs, so a new form view is protected without asking.
    """
    if app.config.get("PRODUCTION"):
        check_production(app)
    csrf.init_app(app)
    app.after_request(cache_control)
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]


# Caching by endpoint (never by path: `//attempts/...` or `%2F` would defeat a
# prefix). Public: the same bytes for everyone. Private: the learner's own figures
# or a CSRF token, fine in their browser's cache only. Everything else, including
# unmatched URLs and redirects, is never stored.
PUBLIC_ENDPOINTS = frozenset({"static", "healthz", "quiz.deck_bank", "quiz.deck"})
PRIVATE_ENDPOINTS = frozenset({"quiz.catalogue", "quiz.builder", "quiz.essay"})


def cache_control(response: Response) -> Response:
    """Cache-Control by endpoint: public ones as they are, else private or no-store."""
    endpoint = request.endpoint
    if endpoint in PUBLIC_ENDPOINTS:
        return response
    if endpoint in PRIVATE_ENDPOINTS:
        response.headers["Cache-Control"] = "private"
    else:
        response.headers["Cache-Control"] = "no-store"
    return response


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


# No view sets these itself, so they are appended to the header list as it goes
# out (a WSGI wrapper: no Headers look-ups on every response).
EVERY_RESPONSE = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
]
HTML_RESPONSE = [*EVERY_RESPONSE, ("Content-Security-Policy", CSP)]


class SecurityHeaders:
    """WSGI middleware adding the security headers to every response."""

    def __init__(self, app: WSGIApplication) -> None:
        """Wrap the WSGI application `app`."""
        self.app = app

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Call the app with a start_response that adds the headers."""

        def start(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            html = any(
                k.lower() == "content-type" and v.startswith("text/html")
                for k, v in headers
            )
            headers.extend(HTML_RESPONSE if html else EVERY_RESPONSE)
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)
