"""RFC 5545 calendar export: one recurring event with an alarm per meal (or clock time)
and set of doses, in the schedule's timezone so local times hold across DST changes."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event

from pillctl.names import SUPPLEMENTS
from pillctl.schedule.model import WEEKDAYS, Schedule, clock, runs_on
from pillctl.schedule.summary import timeline

_ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _first_occurrence(days: int, earliest: date) -> date:
    day = earliest
    while not runs_on(days, day):
        day += timedelta(days=1)
    return day


def _groups(schedule: Schedule, slot_id: str) -> dict[tuple, list[str]]:
    """Doses and reminders of one slot, grouped by (weekdays, start, end)."""
    groups: dict[tuple, list[str]] = defaultdict(list)
    for dose in schedule.doses:
        if dose.slot == slot_id:
            comp = schedule.compartment(dose.compartment)
            pills = f"{dose.pills} pill{'s' if dose.pills > 1 else ''}"
            supplement = SUPPLEMENTS.get(comp.form or "", comp.supplement)
            groups[dose.days, dose.start, dose.end].append(f"{pills} {supplement}")
    for item in schedule.items:
        if item.slot == slot_id:
            groups[item.days, item.start, item.end].append(item.name)
    return groups


def export_calendar(schedule: Schedule, start: date) -> bytes:
    """The calendar from ``start`` on; ``start`` also fixes DTSTAMP, so output is repeatable."""
    zone = ZoneInfo(schedule.timezone)
    calendar = Calendar()
    calendar.add("prodid", "-//pillctl//supplement schedule//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", schedule.name)
    stamp = datetime.combine(start, time(0), UTC)
    for entry in timeline(schedule):
        slot = entry.slot
        groups = _groups(schedule, slot.id)
        for index, ((days, first, last), what) in enumerate(sorted(groups.items(), key=str)):
            begin = _first_occurrence(days, max(start, first or start))
            if last is not None and begin > last:
                continue  # the regimen ended before the calendar starts
            # A meal by name and time; a clock-time slot (id `t0630`) by its time alone.
            when = f"{slot.id} {clock(slot.at)}" if slot.meal else clock(slot.at)
            summary = f"{when}: {', '.join(what)}"
            event = Event()
            event.add("uid", f"{schedule.name}-{slot.id}-{index}@pillctl")
            event.add("dtstamp", stamp)
            event.add("summary", summary)
            event.add("description", "\n".join(what))
            starts = datetime.combine(begin, time(slot.at // 60, slot.at % 60), zone)
            event.add("dtstart", starts)
            event.add("dtend", starts + timedelta(minutes=max(slot.late, 1)))
            rule: dict = {
                "freq": "weekly",
                "byday": [
                    _ICAL_DAYS[WEEKDAYS.index(name)]
                    for bit, name in enumerate(WEEKDAYS)
                    if days >> bit & 1
                ],
            }
            if last is not None:
                # UNTIL is in UTC when DTSTART has a TZID (RFC 5545 3.3.10).
                rule["until"] = datetime.combine(last, time(23, 59), zone).astimezone(UTC)
            event.add("rrule", rule)
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", summary)
            alarm.add("trigger", timedelta(0))
            event.add_component(alarm)
            calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
