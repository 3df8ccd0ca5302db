"""Binds the database and migrations to the app, with engine settings per backend."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, has_request_context, request
from sqlalchemy import Connection, event

from .config import PROJECT_ROOT
from .extensions import db, migrate


def init_app(app: Flask) -> None:
    """Register SQLAlchemy and Flask-Migrate; tune SQLite for several workers."""
    sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # A PostgreSQL restart then costs at most one retried request; an SQLite file
    # has no server to lose, so it skips the extra round trip per checkout.
    options.setdefault("pool_pre_ping", not sqlite)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
            event.listen(db.engine, "begin", _sqlite_begin)


def read_first() -> None:
    """This request reads before it decides whether to write (see start_writing)."""
    g.quizapp_reading = True


def start_writing() -> None:
    """End the request's reads and take the write lock with the next statement.

    On SQLite that next statement begins with BEGIN IMMEDIATE; on PostgreSQL the
    views lock the rows they change (SELECT ... FOR UPDATE). Whatever was read
    before must be read again under the lock.
    """
    db.session.rollback()
    g.quizapp_reading = False


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
    # Outside requests (the CLI's content load) a transaction makes the work
    # atomic. Reads in a request run as single autocommit statements, as pysqlite
    # runs SELECTs by default. A request that writes takes the write lock up front:
    # two workers then queue on the busy timeout instead of one failing when it
    # upgrades a stale snapshot.
    if not has_request_context():
        connection.exec_driver_sql("BEGIN")
    elif request.method not in ("GET", "HEAD") and not g.get("quizapp_reading"):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _is_memory(dbapi_connection: Any) -> bool:
    cursor = dbapi_connection.cursor()
    try:
        rows = cursor.execute("PRAGMA database_list").fetchall()
    finally:
        cursor.close()
    return any(row[2] == "" for row in rows)
