"""Time for study mode: UTC at the edges, and the learner's study day.

Every stored time is UTC; SQLite hands datetimes back without their zone, so rows
read for study mode pass through `as_utc` once. A study day runs from the
learner's start hour in their time zone to the same hour the next day (Anki's
"next day starts at"). Its bounds are computed in the zone the learner has now,
so a DST switch or a new time zone moves the bounds, never the stored reviews:
"done today" is whatever falls inside today's bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from ..models import as_utc


def known_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone this machine knows (tzdata)."""
    if not name or len(name) > 64 or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone(name: str) -> ZoneInfo:
    """The learner's zone; UTC if the stored name is not (or no longer) known."""
    return ZoneInfo(name) if known_zone(name) else ZoneInfo("UTC")


def zone_names() -> list[str]:
    """Every IANA zone name, sorted, for the settings form's list."""
    return sorted(available_timezones())


@dataclass(frozen=True)
class StudyDay:
    """One study day: its calendar date and its bounds in UTC, [start, end)."""

    date: date
    start: datetime
    end: datetime


def day_start(day: date, zone_name: str, start_hour: int) -> datetime:
    """When study day `day` begins, in UTC."""
    local = datetime.combine(day, time(start_hour), tzinfo=zone(zone_name))
    return local.astimezone(UTC)


def day_of(moment: datetime, zone_name: str, start_hour: int) -> date:
    """The study day an instant belongs to, for a learner in `zone_name`."""
    local = as_utc(moment).astimezone(zone(zone_name))
    day = local.date()
    # Compare with the day's real start rather than the wall clock, so a start
    # hour inside a DST gap still gives contiguous days.
    if as_utc(moment) < day_start(day, zone_name, start_hour):
        day -= timedelta(days=1)
    return day


def study_day(now: datetime, zone_name: str, start_hour: int) -> StudyDay:
    """The study day holding `now`, with its UTC bounds."""
    day = day_of(now, zone_name, start_hour)
    return StudyDay(
        day,
        day_start(day, zone_name, start_hour),
        day_start(day + timedelta(days=1), zone_name, start_hour),
    )


def local_time(moment: datetime, zone_name: str) -> datetime:
    """An instant on the learner's wall clock, for display."""
    return as_utc(moment).astimezone(zone(zone_name))
