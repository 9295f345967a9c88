"""The adherence report in the terminal: a calendar coloured by adherence, then per dose."""

from __future__ import annotations

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from pillctl.adherence import (
    BANDS,
    LATE_AFTER_MIN,
    NO_DATA_COLOUR,
    Report,
    band_colour,
    calendar_weeks,
    day_date,
)

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _percent_text(percent: float | None) -> str:
    return "-" if percent is None else f"{percent:.0f}%"


def _calendar(report: Report) -> Table:
    table = Table(title="Adherence by day", show_lines=True)
    table.add_column("week of")
    for name in WEEKDAYS:
        table.add_column(name, justify="center")
    for week in calendar_weeks(report):
        cells: list[Text | str] = []
        for day in week:
            if day is None:
                cells.append("")
                continue
            label = f"{day_date(day.day).day:2d}\n{_percent_text(day.percent)}"
            cells.append(Text(label, style=f"black on {band_colour(day.percent)}"))
        monday = next(d for d in week if d is not None)
        start = day_date(monday.day - day_date(monday.day).weekday())
        table.add_row(start.isoformat(), *cells)
    return table


def _legend() -> Text:
    legend = Text("legend: ")
    for _, colour, label in BANDS:
        legend.append(f" {label} ", style=f"black on {colour}")
        legend.append(" ")
    legend.append(" no doses ", style=f"black on {NO_DATA_COLOUR}")
    return legend


def _per_dose(report: Report) -> Table:
    # Simple box and no edge padding: the table fits an 80-column terminal.
    table = Table(title="Per dose", box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False)
    statuses = report.shown_statuses
    table.add_column("dose", no_wrap=True)
    table.add_column("slot", no_wrap=True)
    for column in (*statuses, "reason", "taken"):
        table.add_column(column, justify="right", no_wrap=True)
    for entry in report.entries:
        reasons = ", ".join(f"{why} ×{n}" for why, n in sorted(entry.reasons.items()))
        kind = " (reminder)" if entry.reminder_only else ""
        table.add_row(
            entry.entry_id + kind,
            entry.slot_id,
            *(str(entry.counts[s]) for s in statuses),
            reasons or "-",
            _percent_text(entry.percent),
        )
    return table


def overrides_lines(report: Report) -> list[str]:
    """One line per clinician override, or a line saying there are none."""
    if not report.overrides:
        return ["Clinician overrides: none"]
    return [
        f"Clinician override {o.get('rule')}: signed off by {o.get('by')} ({o.get('why', '')})"
        for o in report.overrides
    ]


def render(report: Report, console: Console) -> None:
    console.print(
        f"[bold]{report.device_id}[/bold]: {report.first} to {report.last}, "
        f"schedule {', '.join(report.schedule_names)}"
    )
    console.print(
        Group(
            _calendar(report),
            _legend(),
            _per_dose(report),
        )
    )
    console.print(f"Overall {_percent_text(report.percent)} taken: {report.summary()}")
    console.print(f"Late means dispensed more than {LATE_AFTER_MIN} min after the slot time.")
    for line in overrides_lines(report):
        console.print(line, markup=False)
