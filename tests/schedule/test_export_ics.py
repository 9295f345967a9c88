"""``pillctl export-ics``: the calendar parses back and keeps local times across DST."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from dateutil.rrule import rrulestr
from icalendar import Calendar
from schedule_builder import base, write

from pillctl.cli import main

SCHEDULES = Path(__file__).resolve().parents[2] / "schedules"


def _export(tmp_path: Path, schedule: Path, start: str = "2027-03-20") -> Calendar:
    out = tmp_path / "out.ics"
    result = CliRunner().invoke(
        main, ["export-ics", str(schedule), "-o", str(out), "--start", start]
    )
    assert result.exit_code == 0, result.output
    return Calendar.from_ical(out.read_bytes())


def test_each_meal_is_a_recurring_event_with_an_alarm(tmp_path):
    calendar = _export(tmp_path, SCHEDULES / "bone-health.toml")
    events = calendar.walk("VEVENT")
    assert [str(e["summary"]) for e in events] == [
        "breakfast 07:30: 1 pill calcium carbonate",
        "lunch 12:30: 1 pill vitamin D3, 1 pill vitamin K2 (MK-7)",
        "dinner 18:30: 1 pill calcium carbonate",
    ]
    for event in events:
        (alarm,) = event.walk("VALARM")
        assert alarm["action"] == "DISPLAY"
        assert alarm["trigger"].dt == timedelta(0)
        assert event["rrule"]["FREQ"] == ["WEEKLY"]


def test_local_time_holds_across_the_dst_change(tmp_path):
    calendar = _export(tmp_path, SCHEDULES / "bone-health.toml")
    lunch = calendar.walk("VEVENT")[1]
    start = lunch["dtstart"].dt
    assert str(start.tzinfo) == "Europe/Berlin"
    occurrences = list(rrulestr(lunch["rrule"].to_ical().decode(), dtstart=start)[:14])
    before, after = occurrences[0], occurrences[13]  # 2027-03-20 and 2027-04-02
    assert (before.hour, before.minute, after.hour, after.minute) == (12, 30, 12, 30)
    assert before.utcoffset() == timedelta(hours=1) and after.utcoffset() == timedelta(hours=2)
    # The calendar's own VTIMEZONE (not only the host's tz database) says the same.
    (zone,) = calendar.walk("VTIMEZONE")
    embedded = zone.to_tz()
    naive = datetime(2027, 3, 20, 12, 30)
    assert embedded.utcoffset(naive) == timedelta(hours=1)
    assert embedded.utcoffset(naive.replace(month=4, day=2)) == timedelta(hours=2)


def test_weekdays_and_date_ranges_become_byday_and_until(tmp_path):
    document = base()
    document["doses"][1].update(days=["mon", "thu"], end=date(2027, 6, 30))
    calendar = _export(tmp_path, write(tmp_path, document), start="2027-01-01")
    d3_event = next(e for e in calendar.walk("VEVENT") if "D3" in str(e["summary"]))
    assert d3_event["rrule"]["BYDAY"] == ["MO", "TH"]
    assert d3_event["rrule"]["UNTIL"][0].date() == date(2027, 6, 30)
    assert d3_event["dtstart"].dt.date() == date(2027, 1, 4)  # first Monday on or after start


def test_reminder_items_are_in_the_calendar(tmp_path):
    calendar = _export(tmp_path, SCHEDULES / "levothyroxine-morning.toml")
    summaries = [str(e["summary"]) for e in calendar.walk("VEVENT")]
    assert summaries[0] == "06:30: levothyroxine 75 mcg"  # a clock time: no id like t0630


def test_export_refuses_a_schedule_with_errors(tmp_path):
    document = base()
    document["profile"]["medications"] = [{"kind": "warfarin"}]
    out = tmp_path / "x.ics"
    result = CliRunner().invoke(
        main, ["export-ics", str(write(tmp_path, document)), "-o", str(out)]
    )
    assert result.exit_code == 1
    assert "K2-VKA" in result.output and not out.exists()


def test_names_as_people_write_them_stay_whole_in_the_calendar(tmp_path):
    # Long enough that the summary is folded (75 octets per line, RFC 5545 3.1): a fold
    # must never split a character's UTF-8 bytes.
    name = "Knochenplan für Oma – Winter 🦴"
    item = "Digoxin 0,125 mg – nach dem Mittagessen mit Wasser ☕"
    document = base()
    document["name"] = name
    document["reminder_items"] = [{"id": "dig", "name": item, "medication": "digoxin",
                                   "at": "15:30"}]  # fmt: skip
    out = tmp_path / "out.ics"
    result = CliRunner().invoke(
        main, ["export-ics", str(write(tmp_path, document)), "-o", str(out), "--start",
               "2027-03-20"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # each folded line is whole UTF-8 on its own
    calendar = Calendar.from_ical(raw)
    assert str(calendar["x-wr-calname"]) == name
    summaries = [str(e["summary"]) for e in calendar.walk("VEVENT")]
    assert f"15:30: {item}" in summaries
