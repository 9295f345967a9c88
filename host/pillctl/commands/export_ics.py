"""``pillctl export-ics FILE -o OUT``: the schedule as a calendar with alarms."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from pillctl.outputs import output_option, start_day_option, write_output
from pillctl.schedule import require_valid
from pillctl.schedule.ics import export_calendar


@click.command(name="export-ics")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@output_option("the calendar (.ics)")
@start_day_option("First day of the calendar")
def export_ics(file: Path, output: Path, start: datetime | None) -> None:
    """Export FILE as an RFC 5545 calendar: one recurring event with an alarm per meal."""
    schedule = require_valid(file).schedule
    assert schedule is not None  # require_valid guarantees it
    data = export_calendar(schedule, start.date() if start else date.today())
    write_output(output, data)
    click.echo(f"{output}: {data.count(b'BEGIN:VEVENT')} recurring events")
