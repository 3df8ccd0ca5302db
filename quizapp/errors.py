"""Error pages in the site's style: a message and what to do next, never a traceback."""

from __future__ import annotations

from flask import Flask, render_template
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "The request could not be understood. Go back, check the form and try again.",
    404: "There is nothing here. It may have been moved, or the address is mistyped.",
    405: "That action is not available at this address.",
    409: "This page is out of date. Reload it to see the latest state.",
    413: "That was more data than a quiz answer needs. Shorten it and try again.",
    415: "Send answers from the quiz page's form.",
    429: "Too many requests. Wait a moment and try again.",
    500: "Something went wrong on our side. Your saved answers are safe; try again.",
    503: "The database is busy. Your saved answers are safe: try again in a moment.",
}


def init_app(app: Flask) -> None:
    """Render every HTTP error (and any unexpected one as a 500) with errors.html."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_busy)
    app.register_error_handler(Exception, _unexpected_error)


def _http_error(error: HTTPException) -> tuple[str, int, dict[str, str]]:
    code = error.code or 500
    # Our own abort() messages are for learners; stock texts are for developers,
    # so those get the friendly message.
    message = error.description if code not in MESSAGES or _custom(error) else None
    page = render_template(
        "errors.html",
        code=code,
        name=error.name,
        message=message or MESSAGES.get(code, error.description),
    )
    # Keep what tells a client when to come back (429's Retry-After, rate limits).
    headers = {k: v for k, v in error.get_headers() if k.lower() == "retry-after"}
    headers.update(getattr(error, "limit_headers", {}))
    return page, code, headers


def _custom(error: HTTPException) -> bool:
    # Werkzeug's stock descriptions are for developers; keep only our own messages.
    return error.description != type(error).description


def _database_busy(error: OperationalError) -> tuple[str, int, dict[str, str]]:
    # A lock held past the busy timeout, or a database restarting: nothing was
    # committed, so the learner can simply try again.
    from flask import current_app

    from .extensions import db

    current_app.logger.warning("Database unavailable: %s", error)
    db.session.rollback()
    page = render_template("errors.html", code=503, name="Busy", message=MESSAGES[503])
    return page, 503, {"Retry-After": "2"}


def _unexpected_error(error: Exception) -> tuple[str, int]:
    from flask import current_app

    from .extensions import db
    from .quiz.stencils import StencilMismatch

    if isinstance(error, StencilMismatch):
        raise error  # a developer's template edit, under TESTING/DEBUG: show it

    current_app.logger.exception("Unhandled error", exc_info=error)
    db.session.rollback()
    return (
        render_template(
            "errors.html", code=500, name="Server error", message=MESSAGES[500]
        ),
        500,
    )
