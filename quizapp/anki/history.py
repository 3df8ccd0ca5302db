"""Study history between the browser and Anki, through a bounded child process.

`read_package` opens a learner's Anki export (.apkg or .colpkg, with scheduling)
and hands back the reviews of our notes as `history.Event`s; `learner_deck`
builds the bank's deck with a learner's schedule and review log in it. Both run
quizapp/anki/bridge.py with the real `anki` library in a child process, in a
temporary directory that is always removed, with bounds on memory, CPU time,
wall time and the bytes it may write (configuration: HISTORY_*).

How notes map to questions (ANKI.md, "Cards vs notes"): a note is a question by
its GUID (builder.note_guid). Anki keeps one card per deletion of a gap note;
the browser keeps one card per question, so a question's history is the review
log of all its note's cards in time order. Going to Anki, every card of the
note gets the question's schedule and the review log goes on its first card.
"""

from __future__ import annotations

import json
import shutil
import subprocess  # nosec B404
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Question, ReviewLog, StudyCard, as_utc
from ..study.history import Event, from_millis, millis
from .builder import DeckQuestion, build_deck, note_guid

BRIDGE = Path(__file__).with_name("bridge.py")

#: What each refusal tells the learner (and what to do next).
MESSAGES = {
    "empty": "The file is empty (0 bytes). Export again from Anki and upload the"
    " .apkg or .colpkg file it writes.",
    "not-zip": "This is not an Anki package: Anki's .apkg and .colpkg files are zip"
    " archives. In Anki choose File > Export, \u201cAnki Deck Package\u201d or"
    " \u201cAnki Collection Package\u201d, with \u201cInclude scheduling"
    " information\u201d ticked.",
    "corrupt": "Anki could not open this package: it is damaged or cut short."
    " Export it again from Anki and upload the new file.",
    "not-anki": "This zip file holds no Anki collection. Upload the .apkg or .colpkg"
    " file that Anki's File > Export writes.",
    "bad-path": "This package holds a file with a path in its name, which Anki"
    " packages never do. Nothing was read from it.",
    "too-many-entries": "This package holds too many files. Export it again without"
    " media (untick \u201cInclude media\u201d).",
    "too-large-unpacked": "This package unpacks to more than the allowed size. Export"
    " only the Peacekeeping deck, without media.",
    "too-many-reviews": "This package holds more reviews than one upload may carry."
    " Export only the Peacekeeping deck instead of the whole collection.",
    "too-much-memory": "Reading this package needed more memory than allowed. Export"
    " only the Peacekeeping deck, without media.",
    "too-slow": "Reading this package took longer than allowed. Export only the"
    " Peacekeeping deck, without media.",
    "failed": "The package could not be read. Export it again from Anki and upload"
    " the new file.",
}


class BridgeRefused(Exception):
    """The child would not or could not do it; `message` is for the learner."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail
        self.message = MESSAGES.get(code, MESSAGES["failed"])


@dataclass(frozen=True)
class AnkiHistory:
    """What a learner's export held, against our bank."""

    notes: int  # notes in the package
    matched: int  # of them ours (a live question's GUID)
    events: list[Event]
    unusable: Counter[str] = field(default_factory=Counter)

    @property
    def not_ours(self) -> int:
        """Notes in the package that are not questions of this bank."""
        return self.notes - self.matched


def _run(args: Sequence[str], request: dict[str, Any], folder: Path) -> dict[str, Any]:
    config = current_app.config
    request = {
        "memory_bytes": config["HISTORY_PARSE_MEMORY_BYTES"],
        "cpu_seconds": config["HISTORY_PARSE_SECONDS"],
        "file_bytes": config["HISTORY_UNPACKED_BYTES"],
        **request,
    }
    try:
        done = subprocess.run(  # noqa: S603  # nosec B603
            [sys.executable, "-I", str(BRIDGE), *args],
            input=json.dumps(request).encode(),
            capture_output=True,
            cwd=folder,
            timeout=config["HISTORY_PARSE_SECONDS"] + 5,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BridgeRefused("too-slow") from exc
    try:
        answer: dict[str, Any] = json.loads(done.stdout or b"null") or {}
    except ValueError:
        answer = {}
    if not answer:
        # Killed by a bound (SIGKILL/SIGXCPU) or crashed: say which when we can.
        code = "too-slow" if done.returncode in (-9, -24) else "failed"
        if b"MemoryError" in done.stderr or b"memory allocation" in done.stderr:
            code = "too-much-memory"
        current_app.logger.warning(
            "anki bridge exited %s: %s", done.returncode, done.stderr[-500:]
        )
        raise BridgeRefused(code)
    if not answer.get("ok"):
        raise BridgeRefused(str(answer.get("code")), str(answer.get("detail", "")))
    return answer


def _guids() -> dict[str, str]:
    """GUID -> question id, for the questions learners can study now."""
    ids = db.session.scalars(select(Question.id).where(Question.retired.is_(False)))
    return {note_guid(qid): qid for qid in ids}


def read_package(data: bytes, now: datetime) -> AnkiHistory:
    """The reviews of our questions in an uploaded Anki package (BridgeRefused)."""
    guids = _guids()
    folder = Path(tempfile.mkdtemp(prefix="quizapp-anki-"))
    try:
        package = folder / "upload.apkg"
        package.write_bytes(data)
        answer = _run(
            ["read", str(package)],
            {
                "guids": sorted(guids),
                "max_reviews": current_app.config["HISTORY_MAX_REVIEWS"],
            },
            folder,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    unusable: Counter[str] = Counter()
    if answer["orphan_reviews"]:
        unusable["reviews of cards deleted in Anki"] = answer["orphan_reviews"]
    events = []
    latest = millis(now)
    for rid, guid, ease, kind, duration in answer["reviews"]:
        if ease not in (1, 2, 3, 4) or kind not in (0, 1, 2, 3):
            unusable["rescheduling entries (no rating: Set due date, Forget)"] += 1
        elif rid > latest:
            unusable["reviews dated in the future"] += 1
        else:
            events.append(
                Event(
                    guids[guid],
                    from_millis(rid),
                    ease,
                    "anki",
                    max(0, int(duration)) or None,
                )
            )
    return AnkiHistory(answer["notes"], answer["ours"], events, unusable)


# -- the learner's deck ---------------------------------------------------------

# fsrs.State before a review -> Anki's revlog type (0 learn, 1 review, 2 relearn).
_REVLOG_TYPE = {None: 0, 1: 0, 2: 1, 3: 2}


def _interval(seconds: int) -> int:
    """Anki's revlog interval: days when a day or more, else negative seconds."""
    return seconds // 86_400 if seconds >= 86_400 else -max(1, seconds)


def learner_deck(questions: Sequence[DeckQuestion], learner_id: str) -> bytes:
    """The bank's deck with this learner's schedule and review log in it."""
    plain = build_deck(questions).data
    wanted = {q.id for q in questions}
    c, lg = StudyCard.__table__.c, ReviewLog.__table__.c
    cards: dict[str, dict[str, Any]] = {}
    guid_of: dict[int, str] = {}
    for row in db.session.execute(
        select(StudyCard.__table__).where(c.learner_id == learner_id)
    ):
        if row.question_id not in wanted:
            continue
        guid = note_guid(row.question_id)
        guid_of[row.id] = guid
        due, last = as_utc(row.due), as_utc(row.last_review)
        cards[guid] = {
            "state": row.state,
            "due": int(due.timestamp()),
            "last_review": int(last.timestamp()),
            "interval_days": max(0, (due - last).days),
            "stability": row.stability,
            "difficulty": row.difficulty,
            "reps": row.reps,
            "lapses": row.lapses,
        }
    revlog = []
    previous: dict[int, int] = {}
    used: set[int] = set()
    for log in db.session.execute(
        select(lg.card_id, lg.reviewed_at, lg.rating, lg.state_before)
        .add_columns(lg.interval_seconds, lg.duration_ms)
        .where(lg.learner_id == learner_id)
        .order_by(lg.reviewed_at, lg.id)
    ):
        guid = guid_of.get(log.card_id)
        if guid is None:
            continue
        rid = millis(log.reviewed_at)
        while rid in used:  # Anki's revlog ids are unique
            rid += 1
        used.add(rid)
        ivl = _interval(log.interval_seconds)
        revlog.append(
            {
                "guid": guid,
                "id": rid,
                "ease": log.rating,
                "ivl": ivl,
                "last_ivl": previous.get(log.card_id, 0),
                "factor": 2500 if log.state_before == 2 else 0,
                "time": min(60_000, log.duration_ms or 0),
                "type": _REVLOG_TYPE.get(log.state_before, 0),
            }
        )
        previous[log.card_id] = ivl
    folder = Path(tempfile.mkdtemp(prefix="quizapp-anki-"))
    try:
        deck = folder / "plain.apkg"
        deck.write_bytes(plain)
        out = folder / "mine.apkg"
        _run(["write", str(deck), str(out)], {"cards": cards, "revlog": revlog}, folder)
        return out.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
