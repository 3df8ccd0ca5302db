"""A learner's progress as a JSON file: exported for a copy, imported to restore it.

The file (format "quizapp-progress", version 1; docs/NOTES-device.md documents
it field by field) holds the learner's saved study settings and every review:
which question, when (UTC, to the microsecond), the rating, where it came from
and how long it took. Card states are not in it: importing replays the reviews
through FSRS (`history.merge_events`), which gives the same cards, so a fresh
learner importing a file sees the same progress page as the one who exported it.

`parse_progress` checks a file completely before anything is written and says
what is wrong with the first bad field (naming the review by its index);
`import_progress` applies it. Neither touches the request: the upload view
(/progress/import) reads the file, holds the write lock and commits.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app

from ..models import utcnow
from . import cards, history, queue
from .days import as_utc, known_zone
from .history import SOURCES, Event
from .queue import Settings

FORMAT = "quizapp-progress"
VERSION = 1
QUESTION_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# A review may be at most this far in the future (clocks of two devices differ).
CLOCK_SKEW = timedelta(minutes=5)
MAX_DURATION_MS = 24 * 60 * 60 * 1000
SETTING_NAMES = tuple(f.name for f in fields(Settings))


class ProgressFileError(ValueError):
    """A progress file that cannot be imported; str() is the message for the learner."""


@dataclass(frozen=True)
class ParsedProgress:
    """A checked progress file: its settings (None: not saved) and its reviews."""

    settings: Settings | None
    events: tuple[Event, ...]
    exported_at: datetime | None


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    reviews: int  # reviews in the file
    added: int  # reviews the learner did not hold yet
    held: int  # reviews already held (or repeated in the file)
    unknown: int  # reviews of questions not in the bank (skipped)
    questions: int  # questions whose card changed
    settings_applied: bool
    merged: history.Merged  # the same counts as the merge gave them


def iso(moment: datetime) -> str:
    """A moment as the file writes it: ISO 8601 in UTC with microseconds."""
    return as_utc(moment).isoformat(timespec="microseconds")


def export_progress(
    learner_id: str | None, now: datetime | None = None
) -> dict[str, Any]:
    """The learner's settings and reviews (oldest first) as the JSON file's object."""
    opened = queue.opening(learner_id)
    events = history.learner_events(learner_id) if learner_id else []
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": iso(now or utcnow()),
        "settings": asdict(opened.settings) if opened.settings_saved else None,
        "reviews": [
            {
                "question": e.question_id,
                "at": iso(e.reviewed_at),
                "rating": e.rating,
                "source": e.source,
                "duration_ms": e.duration_ms,
            }
            for e in events
        ],
    }


def export_bytes(learner_id: str | None, now: datetime | None = None) -> bytes:
    """The progress file's bytes: UTF-8 JSON, one review per line."""
    data = export_progress(learner_id, now)
    reviews = data.pop("reviews")
    lines = ["{"]
    lines += [
        f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},"
        for k, v in data.items()
    ]
    if reviews:
        rows = [" " * 2 + json.dumps(r, ensure_ascii=False) for r in reviews]
        lines += [' "reviews": [', ",\n".join(rows), " ]"]
    else:
        lines.append(' "reviews": []')
    lines.append("}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def parse_progress(
    data: bytes, now: datetime | None = None, max_reviews: int | None = None
) -> ParsedProgress:
    """A progress file's settings and reviews, checked; ProgressFileError if bad.

    `max_reviews` defaults to the app's HISTORY_MAX_REVIEWS. Unknown keys are
    ignored (a later version 1 writer may add some); unknown questions are kept
    here and counted and skipped by the import.
    """
    if max_reviews is None:
        max_reviews = int(current_app.config["HISTORY_MAX_REVIEWS"])
    latest = as_utc(now or utcnow()) + CLOCK_SKEW
    if not data.strip():
        raise ProgressFileError("The file is empty.")
    if data.startswith(b"PK\x03\x04"):
        raise ProgressFileError(
            "This is a zip file (an Anki export?), not a JSON progress file."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ProgressFileError(
            f"This is not a progress file: it is not UTF-8 text "
            f"(byte {error.start} cannot be read)."
        ) from error
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise ProgressFileError(
            f"This is not a progress file: it is not valid JSON "
            f"({error.msg} at line {error.lineno}, column {error.colno})."
        ) from error
    except ProgressFileError:
        raise
    except (RecursionError, ValueError) as error:
        raise ProgressFileError(
            "This is not a progress file: its JSON is nested too deeply "
            "or holds a number too long to read."
        ) from error
    if not isinstance(document, dict):
        raise ProgressFileError(
            "This is not a progress file: it should be one JSON object "
            '{"format": "quizapp-progress", ...}.'
        )
    if document.get("format") != FORMAT:
        raise ProgressFileError(
            f'This is not a progress file of this app: its "format" is '
            f'{_show(document.get("format"))}, not "{FORMAT}".'
        )
    version = document.get("version")
    if not _is_int(version):
        raise ProgressFileError(
            f'The file\'s "version" should be a whole number, not {_show(version)}.'
        )
    if version != VERSION:
        raise ProgressFileError(
            f"The file is version {version} of the progress format; this app reads "
            f"version {VERSION}. Export it again from this app."
        )
    exported_at = None
    if document.get("exported_at") is not None:
        exported_at = _moment(document["exported_at"], '"exported_at"')
    settings = _settings(document.get("settings"))
    reviews = document.get("reviews")
    if not isinstance(reviews, list):
        raise ProgressFileError(
            f'The file\'s "reviews" should be a list, not {_show(reviews)}.'
        )
    if len(reviews) > max_reviews:
        raise ProgressFileError(
            f"The file holds {len(reviews):,} reviews; one file may hold at most "
            f"{max_reviews:,}."
        )
    events = tuple(_event(i, item, latest) for i, item in enumerate(reviews))
    return ParsedProgress(settings, events, exported_at)


def import_progress(learner_id: str, parsed: ParsedProgress) -> ImportResult:
    """Merge a checked file into the learner's history; settings only if none saved.

    Creates the learner row if needed. The caller holds the write lock and
    commits; importing the same file again adds nothing.
    """
    cards.ensure_learner(learner_id)
    applied = False
    if parsed.settings is not None and not queue.opening(learner_id).settings_saved:
        queue.save_settings(learner_id, parsed.settings, new=True)
        applied = True
    retention = queue.settings_of(learner_id).desired_retention
    merged = history.merge_events(learner_id, parsed.events, retention)
    return ImportResult(
        reviews=len(parsed.events),
        added=merged.added,
        held=merged.held,
        unknown=merged.unknown,
        questions=merged.questions,
        settings_applied=applied,
        merged=merged,
    )


def _no_constant(name: str) -> None:
    raise ProgressFileError(
        f"This is not a progress file: its JSON holds {name}, which JSON does not "
        "allow."
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False) if value is not None else "missing"
    return text if len(text) <= 60 else text[:57] + "..."


def _moment(value: object, where: str) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ProgressFileError(
            f"{where} should be a time like 2026-06-10T12:00:00.000000+00:00, "
            f"not {_show(value)}."
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise ProgressFileError(
            f"{where} is not a time: {_show(value)} (write it like "
            "2026-06-10T12:00:00.000000+00:00)."
        ) from error
    if moment.tzinfo is None:
        raise ProgressFileError(
            f"{where} has no time zone: {_show(value)} (end it with +00:00 for UTC)."
        )
    return moment.astimezone(UTC)


def _settings(value: object) -> Settings | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ProgressFileError(
            f'The file\'s "settings" should be an object or null, not {_show(value)}.'
        )
    missing = [name for name in SETTING_NAMES if name not in value]
    if missing:
        raise ProgressFileError(f'The file\'s "settings" lack {", ".join(missing)}.')
    checks = {
        "new_per_day": (0, 9999),
        "max_reviews_per_day": (0, 99999),
        "day_starts_at_hour": (0, 23),
    }
    for name, (low, high) in checks.items():
        number = value[name]
        if not _is_int(number) or not low <= number <= high:
            raise ProgressFileError(
                f"settings.{name} should be a whole number from {low} to {high}, "
                f"not {_show(number)}."
            )
    retention = value["desired_retention"]
    if (
        not isinstance(retention, int | float)
        or isinstance(retention, bool)
        or not math.isfinite(retention)
        or not 0.8 <= retention <= 0.97
    ):
        raise ProgressFileError(
            f"settings.desired_retention should be a number from 0.80 to 0.97, "
            f"not {_show(retention)}."
        )
    zone = value["time_zone"]
    if not isinstance(zone, str) or not known_zone(zone):
        raise ProgressFileError(
            f"settings.time_zone should be a time zone such as Europe/Berlin or "
            f"UTC, not {_show(zone)}."
        )
    return Settings(
        new_per_day=value["new_per_day"],
        max_reviews_per_day=value["max_reviews_per_day"],
        desired_retention=float(retention),
        time_zone=zone,
        day_starts_at_hour=value["day_starts_at_hour"],
    )


def _event(index: int, item: object, latest: datetime) -> Event:
    where = f"reviews[{index}]"
    if not isinstance(item, dict):
        raise ProgressFileError(
            f"{where} should be an object with question, at, rating and source, "
            f"not {_show(item)}."
        )
    question = item.get("question")
    if (
        not isinstance(question, str)
        or len(question) > 100
        or not QUESTION_ID.match(question)
    ):
        raise ProgressFileError(
            f"{where}.question should be a question id such as "
            f'"un-charter-chapter-vi", not {_show(question)}.'
        )
    moment = _moment(item.get("at"), f"{where}.at")
    if moment > latest:
        raise ProgressFileError(f"{where}.at is in the future: {_show(item['at'])}.")
    if moment.year < 1970:
        raise ProgressFileError(f"{where}.at is before 1970: {_show(item['at'])}.")
    rating = item.get("rating")
    if not _is_int(rating) or rating not in (1, 2, 3, 4):
        raise ProgressFileError(
            f"{where}.rating should be 1 (again), 2 (hard), 3 (good) or 4 (easy), "
            f"not {_show(rating)}."
        )
    source = item.get("source")
    if not isinstance(source, str) or source not in SOURCES:
        raise ProgressFileError(
            f"{where}.source should be one of {', '.join(sorted(SOURCES))}, "
            f"not {_show(source)}."
        )
    duration = item.get("duration_ms")
    if duration is not None and (
        not _is_int(duration) or not 0 <= duration <= MAX_DURATION_MS
    ):
        raise ProgressFileError(
            f"{where}.duration_ms should be null or a whole number of milliseconds "
            f"from 0 to {MAX_DURATION_MS}, not {_show(duration)}."
        )
    return Event(question, moment, rating, source, duration)
