"""Transfer codes: a one-time code that attaches another browser to the same learner.

A learner is the random id in a browser's signed session cookie, so a second
browser (a phone, another computer) starts as a stranger. On the first browser
the learner asks for a code (`issue_code`); typed into the second browser (or
opened as a link) it makes that browser's session the same learner (`redeem`,
then `attach`). If the second browser had studied on its own, its reviews are
merged into the learner's history (each review kept once) and its attempts move
with it.

The code is 12 characters of Crockford's base32 (0-9 and A-Z without I, L, O,
U), drawn with `secrets`, shown as XXXX-XXXX-XXXX. Typing is forgiving: lower
case, spaces, missing or extra dashes, O for 0 and I or L for 1 are accepted.
Only its SHA-256 is stored. A code expires 15 minutes after it is issued and
is used at most once: the redemption is one conditional UPDATE (... WHERE
used_at IS NULL AND expires_at > now), so of two concurrent redemptions at most
one attaches a browser. Issuing a new code deletes the learner's earlier unused
ones, so each learner has at most one live code.

Why guessing is hopeless. There are 32^12 = 2^60 ≈ 1.15e18 codes. A guess is a
POST to /device/join, limited to RATE_LIMIT_TRANSFER per client address (10 per
minute by default): 150 guesses per address in a code's 15-minute life, 14,400 a
day, 5.3 million a year. With L live codes at a time (one per learner who asked
in the last 15 minutes), each guess hits one with probability L / 2^60. Even
with a million codes live at every moment and an attacker on 1,000 addresses
guessing for a whole year (5.3e9 guesses), the chance of attaching to anyone is
5.3e9 * 1e6 / 1.15e18 ≈ 0.5 %; with a realistic hundred live codes it is
about 1 in 2 million, and a guesser cannot choose whose learner they would get.
An unknown code is answered with the same message whether or not it ever
existed; "expired" and "used" are named, since only the holder of a real code
sees them.

Functions here execute and flush; the caller holds the write lock
(`quizapp.database.write_lock`) and commits.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, or_, select, update

from ..extensions import db
from ..models import (
    Attempt,
    Learner,
    ReviewLog,
    StudyCard,
    StudySettings,
    TransferCode,
    as_utc,
)
from . import history, queue

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
LENGTH = 12
GROUP = 4
LIFETIME = timedelta(minutes=15)
# Expired codes are kept a day (so a late visitor is told "expired", not "unknown"),
# then removed by the next issue.
KEEP_EXPIRED = timedelta(days=1)
_TYPOS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]+")
_code = TransferCode.__table__


class Refusal(enum.Enum):
    """Why a code attached nothing; the value is the message for the learner."""

    MALFORMED = (
        "A transfer code has 12 letters and digits, like 7KQ2-M9XD-4HCT. "
        "Check what you typed and try again."
    )
    UNKNOWN = (
        "That code does not match any transfer code. Check what you typed, or ask "
        "for a new code on your other device."
    )
    EXPIRED = (
        "That code has expired: codes work for 15 minutes. Ask for a new code on "
        "your other device."
    )
    USED = (
        "That code has been used already: each code works once. Ask for a new code "
        "on your other device."
    )

    @property
    def message(self) -> str:
        """What the join page says."""
        return str(self.value)

    @property
    def status(self) -> int:
        """The HTTP status of the refusal page: 400, 404, or 410 for a spent code."""
        return _STATUS[self]


_STATUS = {
    Refusal.MALFORMED: 400,
    Refusal.UNKNOWN: 404,
    Refusal.EXPIRED: 410,
    Refusal.USED: 410,
}


@dataclass(frozen=True)
class Issued:
    """A new code as the learner sees it, and when it stops working."""

    code: str
    expires_at: datetime


@dataclass(frozen=True)
class Attached:
    """What attaching a browser did: the history merged in from its own learner."""

    learner_id: str
    already: bool  # the browser was that learner already
    merged: history.Merged | None  # None: the browser had no history of its own
    attempts: int  # attempts moved to the learner


def format_code(raw: str) -> str:
    """Twelve code characters as the learner sees them: XXXX-XXXX-XXXX."""
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def normalise(text: str) -> str | None:
    """The 12 characters a typed code stands for, or None if it cannot be a code."""
    raw = _SEPARATORS.sub("", text.upper()).translate(_TYPOS)
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return raw


def code_hash(raw: str) -> str:
    """The stored form of a normalised code."""
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


def issue_code(learner_id: str, now: datetime) -> Issued:
    """A new code for the learner (whose row exists), replacing their unused ones."""
    now = as_utc(now)
    c = _code.c
    db.session.execute(
        delete(_code).where(
            or_(
                and_(c.learner_id == learner_id, c.used_at.is_(None)),
                c.expires_at < now - KEEP_EXPIRED,
            )
        )
    )
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    expires = now + LIFETIME
    db.session.execute(
        _code.insert().values(
            code_hash=code_hash(raw),
            learner_id=learner_id,
            created_at=now,
            expires_at=expires,
            used_at=None,
        )
    )
    return Issued(format_code(raw), expires)


def redeem(text: str, now: datetime) -> str | Refusal:
    """Use the code `text` names: its learner's id, or why it cannot be used.

    One conditional UPDATE marks the code used only if it is unused and not
    expired, so a code attaches at most one browser however many try at once.
    """
    raw = normalise(text)
    if raw is None:
        return Refusal.MALFORMED
    now = as_utc(now)
    key = code_hash(raw)
    c = _code.c
    used = db.session.execute(
        update(_code)
        .where(c.code_hash == key, c.used_at.is_(None), c.expires_at > now)
        .values(used_at=now)
        .returning(c.learner_id)
    ).scalar()
    if used is not None:
        return str(used)
    row = db.session.execute(
        select(c.used_at, c.expires_at).where(c.code_hash == key)
    ).first()
    if row is None:
        return Refusal.UNKNOWN
    return Refusal.USED if row.used_at is not None else Refusal.EXPIRED


def attach(browser_learner_id: str | None, target_learner_id: str) -> Attached:
    """Merge the browser's own learner (if it has a history) into the target.

    The browser's reviews go through `history.merge_events` (each review kept
    once, replayed in time order with the target's desired retention); its
    attempts are reassigned; its settings become the target's if the target has
    none; then its cards, review log and settings are removed. The caller
    points the browser's session at the target.
    """
    if browser_learner_id is None or browser_learner_id == target_learner_id:
        return Attached(
            target_learner_id, browser_learner_id == target_learner_id, None, 0
        )
    source = browser_learner_id
    present = db.session.scalar(select(exists().where(Learner.id == source)))
    if not present:
        return Attached(target_learner_id, False, None, 0)
    card, log, settings = (
        StudyCard.__table__,
        ReviewLog.__table__,
        StudySettings.__table__,
    )
    target_settings = queue.opening(target_learner_id)
    if not target_settings.settings_saved:
        own = db.session.execute(
            update(settings)
            .where(settings.c.learner_id == source)
            .values(learner_id=target_learner_id)
        )
        moved_settings = bool(own.rowcount)  # type: ignore[attr-defined]
    else:
        moved_settings = False
    retention = queue.settings_of(target_learner_id).desired_retention
    events = history.learner_events(source)
    merged = (
        history.merge_events(target_learner_id, events, retention) if events else None
    )
    moved = db.session.execute(
        update(Attempt.__table__)
        .where(Attempt.__table__.c.learner_id == source)
        .values(learner_id=target_learner_id)
    )
    db.session.execute(delete(log).where(log.c.learner_id == source))
    db.session.execute(delete(card).where(card.c.learner_id == source))
    if not moved_settings:
        db.session.execute(delete(settings).where(settings.c.learner_id == source))
    db.session.execute(delete(_code).where(_code.c.learner_id == source))
    return Attached(
        target_learner_id,
        False,
        merged,
        moved.rowcount,  # type: ignore[attr-defined]
    )
