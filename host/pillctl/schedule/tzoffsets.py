"""UTC offset table for the device, which has no timezone database.

zoneinfo (with the tzdata package) gives the offset at any instant; the table lists the
offset at the compile day's UTC midnight and then every change over the next two years.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

YEARS_COVERED = 2


def _offset_minutes(zone: ZoneInfo, epoch: int) -> int:
    offset = datetime.fromtimestamp(epoch, UTC).astimezone(zone).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def _first_change(zone: ZoneInfo, before: int, after: int) -> int:
    """Earliest second in (before, after] whose offset differs from the one at ``before``."""
    old = _offset_minutes(zone, before)
    while after - before > 1:
        middle = (before + after) // 2
        if _offset_minutes(zone, middle) == old:
            before = middle
        else:
            after = middle
    return after


def _two_years_later(start: date) -> date:
    try:
        return start.replace(year=start.year + YEARS_COVERED)
    except ValueError:  # 29 February
        return start.replace(year=start.year + YEARS_COVERED, day=28)


def utc_offset_table(timezone: str, start: date) -> list[list[int]]:
    """``[[utc_epoch_seconds, offset_minutes], ...]`` from ``start``'s UTC midnight."""
    zone = ZoneInfo(timezone)
    day = timedelta(days=1).total_seconds()
    first = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())
    last = int(datetime.combine(_two_years_later(start), datetime.min.time(), UTC).timestamp())
    table = [[first, _offset_minutes(zone, first)]]
    # Zones change offset at most a few times a year, never twice within one day.
    probe = first
    while probe < last:
        following = min(probe + int(day), last)
        if _offset_minutes(zone, following) != table[-1][1]:
            change = _first_change(zone, probe, following)
            table.append([change, _offset_minutes(zone, change)])
        probe = following
    return table
