"""Read-only statements for the hottest pages, run on a pooled DBAPI connection.

A question page, an answer post, the results and the catalogue each need one or two
small SELECTs. Through SQLAlchemy's Connection or ORM Session such a statement costs
50-120 microseconds of Python (events, transaction bookkeeping, result objects) for a
query SQLite answers in 4; the speed goals leave about 150 for the whole request
(benchmarks/README.md). So these statements are still written as SQLAlchemy Core
expressions (one text for SQLite and PostgreSQL, named parameters), compiled once per
dialect, and executed on a connection checked out of the engine's own pool (pre-ping,
recycling and reset-on-return included). Rows come back as dicts keyed by the
statement's column labels, values converted by type (JSON and timestamps arrive as
text from SQLite).

Every statement is reported to `listeners`, so statement counts (tests, profiling)
see these as well as SQLAlchemy's own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, Select

from .models import as_utc

#: Called with each statement's SQL text and its bound parameters before it runs.
listeners: list[Callable[[str, Any], None]] = []

Row = dict[str, Any]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _datetime(value: Any) -> Any:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value) if isinstance(value, datetime) else value


class FastStatement:
    """A Core SELECT with named bind parameters, compiled once per dialect."""

    def __init__(self, statement: Select[Any]) -> None:
        """Keep the statement; compile on first use with each dialect.

        Every selected column needs a distinct name (label scalar subqueries and
        functions): rows are read by those names, never by position.
        """
        self.statement = statement
        self.names = tuple(statement.selected_columns.keys())
        if len(set(self.names)) != len(self.names) or any(
            not n or n.startswith("_") for n in self.names
        ):
            raise ValueError(f"label every column of a fast statement: {self.names}")
        converters: list[Callable[[Any], Any] | None] = []
        for column in statement.selected_columns:
            if isinstance(column.type, JSON):
                converters.append(_json)
            elif isinstance(column.type, DateTime):
                converters.append(_datetime)
            else:
                converters.append(None)
        self._converted = [(i, f) for i, f in enumerate(converters) if f is not None]
        self._compiled: dict[str, tuple[str, Any]] = {}

    def _for(self, dialect_name: str, engine: Engine) -> tuple[str, Any]:
        compiled = self._compiled.get(dialect_name)
        if compiled is None:
            sql = self.statement.compile(dialect=engine.dialect)
            compiled = (str(sql), sql)
            self._compiled[dialect_name] = compiled
        return compiled

    def rows(self, reader: Reader, **params: Any) -> list[Row]:
        """All rows for these parameter values, with JSON and timestamps converted."""
        text, compiled = self._for(reader.dialect_name, reader.engine)
        values = compiled.construct_params(params)
        if compiled.positiontup is not None:
            bound: Any = tuple(values[name] for name in compiled.positiontup)
        else:
            bound = values
        for listener in listeners:
            listener(text, bound)
        cursor = reader.connection.cursor()
        try:
            cursor.execute(text, bound)
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        names, converted = self.names, self._converted
        result = []
        for row in fetched:
            values_ = list(row)
            for index, convert in converted:
                if values_[index] is not None:
                    values_[index] = convert(values_[index])
            result.append(dict(zip(names, values_, strict=True)))
        return result

    def first(self, reader: Reader, **params: Any) -> Row | None:
        """The first row, or None."""
        rows = self.rows(reader, **params)
        return rows[0] if rows else None


class Reader:
    """One pooled DBAPI connection for a page's fast reads."""

    def __init__(self, engine: Engine, connection: Any) -> None:
        """Wrap a connection checked out of `engine`'s pool."""
        self.engine = engine
        self.dialect_name = engine.dialect.name
        self.connection = connection


@contextmanager
def reading(engine: Engine) -> Iterator[Reader]:
    """Check a connection out of the pool for some fast reads; return it after.

    Use it before the request's ORM session starts a transaction: on returning, the
    pool resets (rolls back) the connection, and a test's single shared SQLite
    connection is the session's too.
    """
    connection = engine.raw_connection()
    # psycopg: reads in autocommit open no transaction, so returning the
    # connection needs no ROLLBACK round trip (SQLite's is a no-op anyway).
    autocommit = engine.dialect.name == "postgresql"
    try:
        if autocommit:
            connection.dbapi_connection.autocommit = True  # type: ignore[union-attr]
        yield Reader(engine, connection)
    finally:
        if autocommit and not connection.dbapi_connection.closed:  # type: ignore[union-attr]
            connection.dbapi_connection.autocommit = False  # type: ignore[union-attr]
        connection.close()


def first_of(statement: FastStatement, engine: Engine, **params: Any) -> Row | None:
    """Run one statement on its own pooled connection; its first row."""
    with reading(engine) as reader:
        return statement.first(reader, **params)


def all_of(
    statements: Sequence[tuple[FastStatement, dict[str, Any]]], engine: Engine
) -> list[list[Row]]:
    """Run several statements on one pooled connection; the rows of each."""
    with reading(engine) as reader:
        return [statement.rows(reader, **params) for statement, params in statements]
