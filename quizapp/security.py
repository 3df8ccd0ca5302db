"""Safe defaults: security headers on every response, and production start-up checks."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g, session
from itsdangerous import URLSafeTimedSerializer

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
    """Check production settings now; add security headers to every response."""
    if app.config.get("PRODUCTION"):
        check_production(app)
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]


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
# Answers and reviews are personal: never keep them in a shared cache.
PERSONAL_PREFIX = "/attempts/"


class SecurityHeaders:
    """WSGI middleware adding the security headers to every response."""

    def __init__(self, app: WSGIApplication) -> None:
        """Wrap the WSGI application `app`."""
        self.app = app

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Call the app with a start_response that adds the headers."""
        personal = environ.get("PATH_INFO", "").startswith(PERSONAL_PREFIX)

        def start(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            html = any(
                k.lower() == "content-type" and v.startswith("text/html")
                for k, v in headers
            )
            if personal:
                headers = [h for h in headers if h[0].lower() != "cache-control"]
                headers.append(("Cache-Control", "no-store"))
            headers.extend(HTML_RESPONSE if html else EVERY_RESPONSE)
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


# Flask-WTF's generate_csrf builds a serializer and derives its key on every call;
# here both happen once per secret key. The tokens are the same bytes Flask-WTF
# makes (same salt, same derived key), and Flask-WTF's CSRFProtect and forms
# validate them.
CSRF_SALT = "wtf-csrf-token"  # flask_wtf.csrf's salt
CSRF_FIELD = "csrf_token"  # WTF_CSRF_FIELD_NAME's default; g and session keys
_CSRF_SERIALIZERS: dict[object, URLSafeTimedSerializer] = {}


def csrf_token() -> str:
    """This request's signed CSRF token, as flask_wtf.csrf.generate_csrf gives it."""
    token = g.get(CSRF_FIELD)
    if token:
        return str(token)
    secret = current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    serializer = _CSRF_SERIALIZERS.get(secret)
    if serializer is None:
        derived = URLSafeTimedSerializer(secret, salt=CSRF_SALT).make_signer()
        serializer = URLSafeTimedSerializer(
            derived.derive_key(),
            salt=CSRF_SALT,
            # hashlib's sha1 (itsdangerous' default) lets hmac use OpenSSL.
            signer_kwargs={"key_derivation": "none", "digest_method": hashlib.sha1},
        )
        _CSRF_SERIALIZERS[secret] = serializer
    raw = session.get(CSRF_FIELD)
    if not isinstance(raw, str):
        raw = hashlib.sha1(os.urandom(64), usedforsecurity=False).hexdigest()
        session[CSRF_FIELD] = raw
    token = serializer.dumps(raw)
    setattr(g, CSRF_FIELD, token)
    return str(token)
