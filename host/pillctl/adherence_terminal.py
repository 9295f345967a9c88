"""The adherence report in the terminal: a calendar whose cells say their figures in text and
symbols (the colour only repeats them), then per dose, stock and overrides."""

from __future__ import annotations

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from pillctl.adherence import (
    BANDS,
    LATE_AFTER_MIN,
    NO_DATA_COLOUR,
    PENDING_COLOUR,
    SYMBOLS,
    TEXT_COLOUR,
    Report,
    calendar_weeks,
    day_colour,
    day_date,
)
from pillctl.selftest import selftest_text

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def legend_symbols() -> list[str]:
    """What the cells' symbols mean: the legend that works without colour."""
    return [
        f"{SYMBOLS['on time']} taken",
        f"{SYMBOLS['missed']} missed",
        f"{SYMBOLS['refused']} refused by the device (why: in the table)",
        f"{SYMBOLS['pending']} still to come",
    ]


def _calendar(report: Report) -> Table:
    table = Table(title="Adherence by day", show_lines=True)
    table.add_column("week of", no_wrap=True)
    for name in WEEKDAYS:
        table.add_column(name, justify="center")
    for week in calendar_weeks(report):
        cells: list[Text | str] = []
        for day in week:
            if day is None:
                cells.append("")
                continue
            label = f"{day_date(day.day).day:2d}\n{day.label()}\n{day.marks()}".rstrip()
            cells.append(Text(label, style=f"{TEXT_COLOUR} on {day_colour(day)}"))
        monday = next(d for d in week if d is not None)
        start = day_date(monday.day - day_date(monday.day).weekday())
        table.add_row(f"{start:%b %d}", *cells)  # short: 7 days fit 80 columns
    return table


def _legend() -> Text:
    legend = Text("colours: ")
    for _, colour, label in BANDS:
        legend.append(f" {label} ", style=f"{TEXT_COLOUR} on {colour}")
        legend.append(" ")
    legend.append(" not over ", style=f"{TEXT_COLOUR} on {PENDING_COLOUR}")
    legend.append(" ")
    legend.append(" no doses ", style=f"{TEXT_COLOUR} on {NO_DATA_COLOUR}")
    legend.append("\nsymbols: " + ", ".join(legend_symbols()))
    return legend


def _per_dose(report: Report) -> Table:
    # Simple box and no edge padding: the table fits an 80-column terminal.
    table = Table(title="Per dose", box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False)
    statuses = report.shown_statuses
    table.add_column("dose", no_wrap=True)
    table.add_column("meal", no_wrap=True)
    extra = ("why refused",) if report.has_reasons else ()
    for column in (*statuses, *extra, "taken"):
        table.add_column(column, justify="right", no_wrap=True)
    for entry in report.entries:
        reasons = (", ".join(f"{why} ×{n}" for why, n in sorted(entry.reasons.items())),)
        kind = " (reminder)" if entry.reminder_only else ""
        table.add_row(
            report.dose_name(entry.entry_id) + kind,
            report.meal(entry.slot_id),
            *(str(entry.counts[s]) for s in statuses),
            *(reasons if extra else ()),
            "none due yet" if entry.whole_percent is None else f"{entry.whole_percent}%",
        )
    return table


def override_items(report: Report) -> list[str]:
    """`D3-UL: signed off by Dr A. Example (why)` per clinician override; empty: none."""
    return [
        f"{o.get('rule')}: signed off by {o.get('by')} ({o.get('why', '')})"
        for o in report.overrides
    ]


def overrides_lines(report: Report) -> list[str]:
    """One line per clinician override, or a line saying there are none."""
    items = override_items(report)
    return [f"Clinician override {item}" for item in items] or ["Clinician overrides: none"]


def selftest_line(report: Report) -> str:
    record = report.selftest
    if record is None:
        return "Last self-test: none in this log"
    return "Last self-test: " + selftest_text(record["t"], record["passed"], record["failed"])


def render(report: Report, console: Console) -> None:
    console.print(
        f"[bold]Supplement adherence: {report.title}[/bold]\n"
        f"{report.first} to {report.last}, schedule {', '.join(report.schedule_names)}, "
        f"device id {report.device_id}",
        markup=True,
    )
    console.print(Group(_calendar(report), _legend(), _per_dose(report)))
    console.print(f"{report.overall()}: {report.summary()}", markup=False)
    console.print(f"Late means dispensed more than {LATE_AFTER_MIN} min after the meal's time.")
    if report.run_out:
        console.print("Stock at the end of the log:")
    for line in report.run_out:
        console.print(f"  {line}", markup=False)
    for line in overrides_lines(report):
        console.print(line, markup=False)
    console.print(selftest_line(report), markup=False)
