"""The progress page's numbers: reviews per day, streaks, forecast, retention, mastery.

Read-only. Mastery is FSRS's retrievability (the predicted chance of recall now),
averaged over a group's seen questions; unseen questions are counted apart.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fsrs import Rating, State
from sqlalchemy import Row, select

from ..extensions import db
from ..models import Essay, Passage, Question, QuestionSource, ReviewLog, StudyCard
from .days import as_utc, day_start, study_day
from .queue import Scope, Settings, settings_of, snapshot
from .scheduler import CardState, retrievability

HEATMAP_DAYS = 371  # 53 weeks: a year, with the first week whole
FORECAST_DAYS = 30
RETENTION_DAYS = 30
WEAKEST = 10


@dataclass(frozen=True)
class DayCount:
    """How many on one study day."""

    day: date
    count: int


@dataclass(frozen=True)
class Cell:
    """One square of the heatmap: where it sits, how dark, what it says."""

    x: int
    y: int
    level: int
    day: date
    count: int


@dataclass(frozen=True)
class Bar:
    """One bar of the forecast chart."""

    x: int
    height: int
    day: date
    count: int


@dataclass(frozen=True)
class Mastery:
    """A group's mastery: mean retrievability of its seen questions (None: none)."""

    key: str
    title: str
    mastery: float | None
    seen: int
    total: int

    @property
    def unseen(self) -> int:
        """Questions never reviewed."""
        return self.total - self.seen


@dataclass(frozen=True)
class Weak:
    """A seen question the learner is most likely to have forgotten."""

    question_id: str
    prompt: str
    essay_title: str
    retrievability: float


@dataclass(frozen=True)
class Report:
    """Everything /progress shows."""

    days: list[DayCount]
    cells: list[Cell]
    weeks: int
    total_reviews: int
    active_days: int
    current_streak: int
    longest_streak: int
    forecast: list[DayCount]
    bars: list[Bar]
    forecast_max: int
    retention: float | None
    retention_reviews: int
    essays: list[Mastery]
    passages: dict[str, list[Mastery]]
    weakest: list[Weak]
    weakest_scope: Scope
    today: date


def _day_bounds(first: date, count: int, settings: Settings) -> list[datetime]:
    return [
        day_start(
            first + timedelta(days=i), settings.time_zone, settings.day_starts_at_hour
        )
        for i in range(count + 1)
    ]


def _per_day(
    moments: list[datetime], first: date, count: int, settings: Settings
) -> list[int]:
    """Count sorted instants per study day, days [first, first + count)."""
    bounds = _day_bounds(first, count, settings)
    counts = [0] * count
    for moment in moments:
        index = bisect_right(bounds, moment) - 1
        if 0 <= index < count:
            counts[index] += 1
    return counts


def streaks(counts: list[int]) -> tuple[int, int]:
    """(current, longest) run of days with reviews; the last entry is today.

    Today without reviews yet does not break the current streak: it is still open.
    """
    longest = run = 0
    for count in counts:
        run = run + 1 if count else 0
        longest = max(longest, run)
    current = 0
    tail = counts if counts and counts[-1] else counts[:-1]
    for count in reversed(tail):
        if not count:
            break
        current += 1
    return current, longest


def _level(count: int, peak: int) -> int:
    if not count:
        return 0
    return min(4, 1 + (4 * count - 1) // max(peak, 1))


def _card_state(row: object) -> CardState:
    return CardState.from_row(row)


def report(learner_id: str, now: datetime, settings: Settings) -> Report:
    """The whole progress report for a learner at `now`."""
    now = as_utc(now)
    today = study_day(now, settings.time_zone, settings.day_starts_at_hour)
    # The heatmap's first column starts on a Monday, 52 whole weeks back.
    first = today.date - timedelta(days=HEATMAP_DAYS - 7 + today.date.weekday())
    count = (today.date - first).days + 1
    since = day_start(first, settings.time_zone, settings.day_starts_at_hour)
    lg = ReviewLog.__table__.c
    logs = db.session.execute(
        select(lg.reviewed_at, lg.rating, lg.state_before)
        .where(lg.learner_id == learner_id, lg.reviewed_at >= since)
        .order_by(lg.reviewed_at)
    ).all()
    moments = [as_utc(row.reviewed_at) for row in logs]
    counts = _per_day(moments, first, count, settings)
    days = [DayCount(first + timedelta(days=i), n) for i, n in enumerate(counts)]
    peak = max(counts, default=0)
    cells = [
        Cell(i // 7, i % 7, _level(d.count, peak), d.day, d.count)
        for i, d in enumerate(days)
    ]
    current, longest = streaks(counts)

    recent = now - timedelta(days=RETENTION_DAYS)
    judged = [
        row.rating != Rating.Again
        for row, moment in zip(logs, moments, strict=True)
        if moment >= recent and row.state_before == State.Review
    ]
    retention = sum(judged) / len(judged) if judged else None

    cards = _cards(learner_id)
    due_days = sorted(as_utc(card.due) for card in cards)
    forecast_counts = _per_day(due_days, today.date, FORECAST_DAYS, settings)
    forecast_counts[0] += sum(1 for due in due_days if due < today.start)  # overdue
    forecast = [
        DayCount(today.date + timedelta(days=i), n)
        for i, n in enumerate(forecast_counts)
    ]
    forecast_max = max(forecast_counts, default=0)
    bars = [
        Bar(
            i, round(60 * d.count / forecast_max) if forecast_max else 0, d.day, d.count
        )
        for i, d in enumerate(forecast)
    ]

    recall = {
        card.question_id: retrievability(
            _card_state(card), now, settings.desired_retention
        )
        for card in cards
    }
    essays, passages = _mastery(recall)
    weakest_ids = sorted(recall, key=lambda qid: (recall[qid], qid))[:WEAKEST]
    weakest = _weak(weakest_ids, recall)
    return Report(
        days=days,
        cells=cells,
        weeks=(count + 6) // 7,
        total_reviews=sum(counts),
        active_days=sum(1 for n in counts if n),
        current_streak=current,
        longest_streak=longest,
        forecast=forecast,
        bars=bars,
        forecast_max=forecast_max,
        retention=retention,
        retention_reviews=len(judged),
        essays=essays,
        passages=passages,
        weakest=weakest,
        weakest_scope=Scope("questions", ids=tuple(w.question_id for w in weakest)),
        today=today.date,
    )


def _cards(learner_id: str) -> list[Row[Any]]:
    c = StudyCard.__table__.c
    return list(
        db.session.execute(
            select(
                c.question_id,
                c.state,
                c.step,
                c.stability,
                c.difficulty,
                c.due,
                c.last_review,
                c.reps,
                c.lapses,
            ).where(c.learner_id == learner_id)
        ).all()
    )


def _mastery(
    recall: dict[str, float], essay_slug: str | None = None
) -> tuple[list[Mastery], dict[str, list[Mastery]]]:
    """Per essay and per passage: mean recall of seen questions, seen and total."""
    q, e = Question.__table__.c, Essay.__table__.c
    query = (
        select(q.id, e.slug, e.title)
        .join(Essay.__table__, e.id == q.essay_id)
        .where(q.retired.is_(False))
        .order_by(e.position)
    )
    s, p = QuestionSource.__table__.c, Passage.__table__.c
    cited = (
        select(s.question_id, e.slug, p.anchor, p.position)
        .join(Passage.__table__, p.id == s.passage_id)
        .join(Essay.__table__, e.id == p.essay_id)
        .join(Question.__table__, q.id == s.question_id)
        .where(q.retired.is_(False))
        .order_by(e.slug, p.position)
    )
    if essay_slug is not None:
        query = query.where(e.slug == essay_slug)
        cited = cited.where(e.slug == essay_slug)
    essay_groups: dict[str, list[str]] = defaultdict(list)
    titles: dict[str, str] = {}
    for qid, slug, title in db.session.execute(query):
        essay_groups[slug].append(qid)
        titles[slug] = title
    passage_groups: dict[str, dict[str, set[str]]] = defaultdict(dict)
    for qid, slug, anchor, _position in db.session.execute(cited):
        passage_groups[slug].setdefault(anchor, set()).add(qid)
    essays = [
        _group(slug, titles[slug], ids, recall) for slug, ids in essay_groups.items()
    ]
    passages = {
        slug: [
            _group(anchor, f"Paragraph {anchor.removeprefix('p-')}", ids, recall)
            for anchor, ids in anchors.items()
        ]
        for slug, anchors in passage_groups.items()
    }
    return essays, passages


def _group(key: str, title: str, ids: object, recall: dict[str, float]) -> Mastery:
    members = list(ids)  # type: ignore[call-overload]
    seen = [recall[qid] for qid in members if qid in recall]
    mean = sum(seen) / len(seen) if seen else None
    return Mastery(key, title, mean, len(seen), len(members))


def _weak(ids: list[str], recall: dict[str, float]) -> list[Weak]:
    if not ids:
        return []
    q, e = Question.__table__.c, Essay.__table__.c
    rows = db.session.execute(
        select(q.id, q.prompt, e.title)
        .join(Essay.__table__, e.id == q.essay_id)
        .where(q.id.in_(ids), q.retired.is_(False))
    ).all()
    found = {row.id: row for row in rows}
    return [
        Weak(qid, found[qid].prompt, found[qid].title, recall[qid])
        for qid in ids
        if qid in found
    ]


def paragraph_mastery(
    learner_id: str | None, essay_slug: str, now: datetime | None = None
) -> dict[str, tuple[float | None, int, int]]:
    """{anchor: (mastery, seen, total)} for one essay's paragraphs (the reader)."""
    if not learner_id:
        recall: dict[str, float] = {}
    else:
        moment = as_utc(now) if now else datetime.now(UTC)
        retention = settings_of(learner_id).desired_retention
        recall = {
            card.question_id: retrievability(_card_state(card), moment, retention)
            for card in _cards(learner_id)
        }
    _essays, passages = _mastery(recall, essay_slug)
    return {m.key: (m.mastery, m.seen, m.total) for m in passages.get(essay_slug, [])}


def due_count(learner_id: str | None, now: datetime) -> int:
    """How many cards are due for the learner now (the catalogue's Study entry)."""
    if not learner_id:
        return 0
    settings = settings_of(learner_id)
    return snapshot(learner_id, Scope(), now, settings).due
