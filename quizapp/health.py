"""`/healthz`: the load balancer's question, answered by asking the database."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db


def init_app(app: Flask) -> None:
    """Register the health check."""
    app.add_url_rule("/healthz", "healthz", healthz)


def healthz() -> tuple[dict[str, str], int]:
    """200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}, 200
