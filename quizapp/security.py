"""Safe defaults: security and caching headers, CSRF, and production start-up checks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

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
    app.session_interface = SessionInterface()
    csrf.init_app(app)
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its serializer built once per key set.

    The same cookies as Flask's default (tests check both ways). Two settings for
    speed: hashlib's own sha1 lets `hmac` use OpenSSL (Flask's lazy wrapper of it
    takes the pure-Python path), and the serializer Flask would build on every
    request is kept for the app's keys (SECRET_KEY and SECRET_KEY_FALLBACKS).
    """

    digest_method = staticmethod(hashlib.sha1)

    def __init__(self) -> None:
        """No serializer until the first request names the keys."""
        self._serializers: dict[tuple[object, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer for the app's current keys, built on first use."""
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        found = self._serializers.get(keys)
        if found is None:
            found = super().get_signing_serializer(app)
            if found is None:
                return None
            self._serializers[keys] = found
        return found


# Caching by endpoint (never by path: `//attempts/...` or `%2F` would defeat a
# prefix). Public: the same bytes for everyone. Private: the learner's own figures
# or a CSRF token, fine in their browser's cache only. Everything else, including
# unmatched URLs and redirects, is never stored.
PUBLIC_ENDPOINTS = frozenset({"static", "healthz", "quiz.deck_bank", "quiz.deck"})
PRIVATE_ENDPOINTS = frozenset({"quiz.catalogue", "quiz.builder", "quiz.essay"})


def cache_control(endpoint: str | None) -> str | None:
    """Cache-Control for a response of `endpoint`: None (as sent), private, no-store."""
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    return "private" if endpoint in PRIVATE_ENDPOINTS else "no-store"


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
            # Flask's request for this environ (Werkzeug files it there): its
            # endpoint, None for an unmatched URL or a routing redirect.
            flask_request = environ.get("werkzeug.request")
            caching = cache_control(getattr(flask_request, "endpoint", None))
            if caching is not None:
                headers = [h for h in headers if h[0].lower() != "cache-control"]
                headers.append(("Cache-Control", caching))
            headers.extend(HTML_RESPONSE if html else EVERY_RESPONSE)
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)
