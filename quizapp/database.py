"""Binds the database and migrations to the app, with engine settings per backend."""

from __future__ import annotations

from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import Connection, event

from .config import PROJECT_ROOT
from .extensions import db, limiter, migrate


def init_app(app: Flask) -> None:
    """Register SQLAlchemy and Flask-Migrate; tune SQLite for several workers."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    limiter.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
            event.listen(db.engine, "begin", _sqlite_begin)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed during a write; the busy timeout makes a second
    # gunicorn worker wait for the lock instead of failing with "database is locked".
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own handling
    # would defer it and break the IMMEDIATE below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    if not _is_memory(dbapi_connection):
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A request that writes takes the write lock up front: two workers then queue
    # on the busy timeout instead of one failing when it upgrades a stale snapshot.
    writing = has_request_context() and request.method not in ("GET", "HEAD")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def _is_memory(dbapi_connection: Any) -> bool:
    cursor = dbapi_connection.cursor()
    try:
        rows = cursor.execute("PRAGMA database_list").fetchall()
    finally:
        cursor.close()
    return any(row[2] == "" for row in rows)
