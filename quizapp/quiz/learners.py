"""Who is asking: the anonymous learner id in Flask's signed session cookie."""

from __future__ import annotations

import time

from flask import session
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import Learner, new_token, utcnow

DAY = 86_400


def learner_id() -> str | None:
    """The learner id of this browser, or None before its first visit.

    The session is a year-long permanent cookie, sent again only when it changes
    (SESSION_REFRESH_EACH_REQUEST is off); the day stamp changes it once a day, so
    the expiry keeps sliding for a learner who comes back.
    """
    value = session.get("learner")
    if not isinstance(value, str):
        return None
    today = int(time.time()) // DAY
    if session.get("day") != today:
        session["day"] = today
    return value


def assign_learner_id() -> str:
    """This browser's learner id, chosen now if it has none (no row yet).

    An id before any row exists: a first-visit double click on "Start" then names
    one learner, not two (the row is created on the first write).
    """
    current = learner_id()
    if current is not None:
        return current
    session["learner"] = new_token()
    session["day"] = int(time.time()) // DAY
    session.permanent = True
    return str(session["learner"])


def ensure_learner() -> Learner:
    """The learner row of this browser, created (and locked) for a write."""
    learner = get_or_create_learner(learner_id())
    if session.get("learner") != learner.id:
        session["learner"] = learner.id
    if not session.permanent:
        session.permanent = True
    return learner


def get_or_create_learner(learner_id: str | None) -> Learner:
    """The learner behind a session id (row locked), or a new anonymous one.

    The lock serialises one learner's concurrent starts on PostgreSQL, so a burst
    of "start" clicks leaves one attempt in progress.
    """
    learner_id = learner_id or new_token()
    learner = db.session.get(Learner, learner_id, with_for_update=True)
    if learner is None:
        # Two first requests with one new id may race: insert-if-absent, then lock.
        dialect = db.session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        db.session.execute(
            insert(Learner)
            .values(id=learner_id, created_at=utcnow())
            .on_conflict_do_nothing()
        )
        learner = db.session.get(
            Learner, learner_id, with_for_update=True, populate_existing=True
        )
    if learner is None:  # pragma: no cover - inserted or found just above
        raise RuntimeError(f"learner {learner_id!r} vanished after insert")
    return learner
