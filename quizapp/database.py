"""Binds the database and migrations to the app, with engine settings per backend."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import Connection, event

from .config import PROJECT_ROOT
from .extensions import db, migrate

# The execution option write_lock() sets on the session's connection: on SQLite the
# transaction it begins then starts with BEGIN IMMEDIATE.
WRITE_OPTION = "quizapp_write_lock"


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
            synchronous = str(app.config.get("SQLITE_SYNCHRONOUS") or "FULL").upper()
            if synchronous not in ("NORMAL", "FULL"):
                raise ValueError(
                    f"SQLITE_SYNCHRONOUS must be NORMAL or FULL, not {synchronous!r}"
                )

            def pragmas(dbapi_connection: Any, record: Any) -> None:
                _sqlite_pragmas(dbapi_connection, record, synchronous)

            event.listen(db.engine, "connect", pragmas)
            event.listen(db.engine, "begin", _sqlite_begin)


def write_lock() -> None:
    """Start this session's write transaction holding the database's write lock.

    Whatever the session read before is forgotten (its transaction is rolled back):
    read it again after this call. On SQLite the transaction begins with BEGIN
    IMMEDIATE, so two writers queue on the busy timeout instead of one failing when
    it upgrades a stale read; on PostgreSQL the caller locks the rows it changes
    (SELECT ... FOR UPDATE). Every view or command that writes calls this first.
    """
    session = db.session()
    if session.in_transaction():
        session.rollback()
    session.connection(execution_options={WRITE_OPTION: True})


def _sqlite_pragmas(
    dbapi_connection: Any, _record: Any, synchronous: str = "FULL"
) -> None:
    # WAL lets readers proceed during a write; the busy timeout makes a second
    # gunicorn worker wait for the lock instead of failing with "database is locked".
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own handling
    # would defer it and break the IMMEDIATE of write_lock).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    if not _is_memory(dbapi_connection):
        cursor.execute("PRAGMA journal_mode=WAL")
        # Only with WAL is NORMAL safe from corruption (config.py SQLITE_SYNCHRONOUS).
        cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A transaction makes a session's work atomic; write_lock() asks for the write
    # lock up front, every other transaction (reads, the CLI) begins deferred.
    if connection.get_execution_options().get(WRITE_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def _is_memory(dbapi_connection: Any) -> bool:
    cursor = dbapi_connection.cursor()
    try:
        rows = cursor.execute("PRAGMA database_list").fetchall()
    finally:
        cursor.close()
    return any(row[2] == "" for row in rows)
