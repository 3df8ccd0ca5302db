"""The learner's signed session cookie, re-signed once a day instead of on every page.

Flask's default re-signs and re-sends a permanent session's cookie with every
response (SESSION_REFRESH_EACH_REQUEST) and builds a new serializer per request.
Here the serializer is built once per key set, and an unchanged cookie is sent
again only when it is older than REFRESH_AFTER, which keeps its year-long expiry
sliding for a learner who comes back while sparing every page the signing work.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from flask import Flask, Request, Response
from flask.sessions import (
    SecureCookieSession,
    SecureCookieSessionInterface,
    SessionMixin,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer

REFRESH_AFTER = timedelta(days=1)


class LearnerSession(SecureCookieSession):
    """A session that remembers when its cookie was signed (None: never sent)."""

    signed_at: datetime | None = None


class LearnerSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions with a cached serializer and a daily refresh."""

    session_class = LearnerSession

    def __init__(self) -> None:
        """No serializer until the first request names the keys."""
        self._serializers: dict[tuple[object, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer, built once for each secret key and fallback list."""
        if not app.secret_key:
            return None
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            flasks = super().get_signing_serializer(app)
            if flasks is None:  # pragma: no cover - a key was checked above
                return None
            # The same signatures as Flask's serializer, with each key derived once
            # here instead of on every signature it makes or checks.
            derived = [
                flasks.make_signer(flasks.salt).derive_key(k)
                for k in flasks.secret_keys
            ]
            serializer = URLSafeTimedSerializer(
                derived,  # type: ignore[arg-type]
                salt=self.salt,
                serializer=self.serializer,
                signer_kwargs={
                    "key_derivation": "none",
                    # hashlib's own sha1 lets hmac use OpenSSL's HMAC; Flask's
                    # lazy wrapper sends it down the pure-Python path.
                    "digest_method": hashlib.sha1,
                },
            )
            self._serializers[keys] = serializer
        return serializer

    def open_session(self, app: Flask, request: Request) -> LearnerSession | None:
        """The session from the cookie, with the time it was signed."""
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = serializer.loads(
                value, max_age=max_age, return_timestamp=True
            )
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = signed_at
        return session

    def save_session(
        self, app: Flask, session: SessionMixin, response: Response
    ) -> None:
        """Flask's save, skipped (but for Vary: Cookie) when nothing is to be sent.

        Most pages neither change the session nor need its daily refresh; for them
        the cookie settings need not be looked up at all.
        """
        if session.modified or self.should_set_cookie(app, session):
            super().save_session(app, session, response)
        elif session.accessed:
            if "Vary" in response.headers:
                response.vary.add("Cookie")
            else:  # the common case, without parsing a Vary header first
                response.headers["Vary"] = "Cookie"

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        """Send the cookie when it changed, or when a permanent one is a day old."""
        if session.modified:
            return True
        if not session.permanent:
            return False
        signed_at = getattr(session, "signed_at", None)
        return signed_at is None or datetime.now(UTC) - signed_at >= REFRESH_AFTER


def init_app(app: Flask) -> None:
    """Use the learner session interface for this app."""
    app.session_interface = LearnerSessionInterface()
