"""How the app meets a WSGI server: trusted hosts and proxies, bodies, the secret key.

- Host names: TRUSTED_HOSTS is Flask's own setting; a Host header not listed is
  answered 400 before any view runs, so no redirect can point at another host.
- Proxies: TRUSTED_PROXIES=N wraps the app in Werkzeug's ProxyFix, so the rate
  limits and logs see the client's address (X-Forwarded-For) and scheme.
- Request bodies: a chunked body (no Content-Length) is read here, bounded by
  MAX_CONTENT_LENGTH, and handed on with its length, so Werkzeug's stock size check
  applies to it as to any other body. The server (gunicorn, Werkzeug's dev server)
  still does the de-chunking; nothing here parses HTTP.
- Uploads: an endpoint in UPLOAD_LIMITS takes a body up to its own configured
  size instead of MAX_CONTENT_LENGTH (decided by endpoint, for chunked bodies
  too); over it, 413 with the limit and what to do.
- The secret key: without SECRET_KEY every HTTP request gets a 503 page saying so;
  the CLI, which signs nothing, keeps working.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING

import click
from flask import Flask, abort, current_app, request
from werkzeug.exceptions import BadHost, HTTPException, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# What the body reader found, for the first before_request hook to act on: the
# error page is then rendered by the app like any other.
BODY_PROBLEM = "quizapp.body_problem"
REFUSAL_MESSAGE = (
    "This server has no SECRET_KEY, so it cannot keep learners' sessions safe and "
    "answers no requests. Set SECRET_KEY in the environment (or create "
    "instance/secret_key; `make run` does) and restart it."
)
REFUSAL_LOG = (
    "No SECRET_KEY (environment or instance/secret_key): every HTTP request gets "
    "503 until one is set and the server restarted."
)
_LOGGED = "quizapp.keyless_logged"

#: Endpoints that take a file upload: the setting naming their size limit, and
#: what a learner over it should do.
UPLOAD_LIMITS = {
    "history.import_history": (
        "HISTORY_UPLOAD_BYTES",
        "Export only the Peacekeeping deck, without media (untick \u201cInclude"
        " media\u201d in Anki's export window), and upload that file.",
    ),
}
BAD_HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Unknown host · Peacekeeping study\
</title></head><body><main><h1>Unknown host (400)</h1>
<p role="alert">This site does not answer to the host name in the address. Check the
address and try again.</p></main></body></html>
"""


def init_app(app: Flask) -> None:
    """Apply the proxy, body and secret-key rules; call it before the other modules."""
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_early)
    app.register_error_handler(SecurityError, _unknown_host)
    app.register_error_handler(BadHost, _unknown_host)
    app.wsgi_app = ChunkedBodyLimit(app)  # type: ignore[method-assign]
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies
        )
    if not app.secret_key and click.get_current_context(silent=True) is None:
        # Started by a WSGI server (no CLI command around it): say why it will
        # refuse requests. CLI commands sign nothing and stay quiet.
        app.logger.error(REFUSAL_LOG)
        app.extensions[_LOGGED] = True


def _refuse_early() -> None:
    """Before any other hook: no key, or a chunked body too large or malformed."""
    if not current_app.secret_key:
        if not current_app.extensions.get(_LOGGED):
            # `flask run` and other CLI starts said nothing yet: once, now.
            current_app.extensions[_LOGGED] = True
            current_app.logger.error(REFUSAL_LOG)
        abort(503, REFUSAL_MESSAGE)
    problem = request.environ.get(BODY_PROBLEM)
    upload = UPLOAD_LIMITS.get(request.endpoint or "")
    if upload is not None:
        allowed = int(current_app.config[upload[0]])
        request.max_content_length = allowed
        if problem == 413 or (request.content_length or 0) > allowed:
            abort(413, f"The file is larger than {allowed // 2**20} MiB. {upload[1]}")
    if problem == 413:
        abort(413)
    if problem == 400:
        abort(400, "The request body was malformed (a broken chunked encoding).")


def _unknown_host(_error: Exception) -> tuple[str, int]:
    # The app has no URL adapter for an untrusted host, so the site's templates
    # (which build URLs) cannot be used: a self-contained page instead.
    return BAD_HOST_PAGE, 400


class ChunkedBodyLimit:
    """WSGI middleware: read a chunked body whole, up to MAX_CONTENT_LENGTH.

    Werkzeug applies max_content_length to a stream without Content-Length by
    stopping at the limit, so an oversized form would be parsed truncated; and a
    server's de-chunking error (gunicorn raises its own exceptions) would surface
    in the view as a 500. Here the body is read first: within the limit it is
    passed on as an ordinary body with a Content-Length; over it, or unreadable,
    the request is marked and refused by the app with 413 or 400 before any hook
    or view sees it.
    """

    def __init__(self, app: Flask) -> None:
        """Wrap the Flask app's current WSGI callable; limits come from its config."""
        self.flask = app
        self.app: WSGIApplication = app.wsgi_app

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Buffer a chunked body, or mark why it cannot be, then call the app."""
        limit = self.flask.config.get("MAX_CONTENT_LENGTH")
        if limit is not None and _is_chunked(environ):
            _buffer_body(environ, self.body_limit(environ, int(limit)))
        return self.app(environ, start_response)

    def body_limit(self, environ: WSGIEnvironment, default: int) -> int:
        """The size a body may have at this request's endpoint."""
        try:
            endpoint, _ = self.flask.url_map.bind_to_environ(environ).match()
        except HTTPException:
            return default
        upload = UPLOAD_LIMITS.get(str(endpoint))
        return int(self.flask.config[upload[0]]) if upload else default


def _is_chunked(environ: WSGIEnvironment) -> bool:
    encoding = environ.get("HTTP_TRANSFER_ENCODING", "")
    return "chunked" in encoding.lower() and not environ.get("CONTENT_LENGTH")


def _buffer_body(environ: WSGIEnvironment, limit: int) -> None:
    stream = environ["wsgi.input"]
    body = bytearray()
    try:
        # One byte past the limit tells "too large" from "exactly the limit";
        # nothing past that is read, whatever the client keeps sending.
        while len(body) <= limit:
            data = stream.read(min(64 * 1024, limit + 1 - len(body)))
            if not data:
                break
            body.extend(data)
    except Exception:
        # gunicorn's InvalidChunkSize / ChunkMissingTerminator / NoMoreData,
        # Werkzeug's OSError("Invalid chunk header"): the body cannot be trusted.
        environ[BODY_PROBLEM] = 400
        body.clear()
    if len(body) > limit:
        environ[BODY_PROBLEM] = 413
        body.clear()
    environ["wsgi.input"] = io.BytesIO(bytes(body))
    environ["CONTENT_LENGTH"] = str(len(body))
    # The body is now an ordinary one of known length (empty when refused);
    # Werkzeug ignores a Content-Length next to "Transfer-Encoding: chunked".
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ.pop("wsgi.input_terminated", None)
