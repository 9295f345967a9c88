"""The adherence report as ONE self-contained HTML file: inline SVG calendar heatmap, a table
per dose, the clinician overrides; no scripts, no network, print-friendly."""

from __future__ import annotations

from html import escape

from pillctl.adherence import (
    BANDS,
    LATE_AFTER_MIN,
    NO_DATA_COLOUR,
    STATUSES,
    TAKEN,
    DayResult,
    Report,
    band_colour,
    calendar_weeks,
    day_date,
)
from pillctl.adherence_terminal import WEEKDAYS, overrides_lines

CELL = 56  # px, one calendar day
GAP = 4
LEFT = 90  # room for the week labels
TOP = 22  # room for the weekday labels

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.6em; text-align: right; }
th:nth-child(-n+2), td:nth-child(-n+2) { text-align: left; }
.legend span { display: inline-block; padding: 0.1em 0.6em; margin-right: 0.3em; }
svg text { font-size: 12px; fill: #111; }
@media print {
  body { margin: 0.5cm; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section { break-inside: avoid; }
}
"""


def _percent_text(percent: float | None) -> str:
    return "no doses" if percent is None else f"{percent:.0f}%"


def _day_tooltip(day: DayResult) -> str:
    counts = day.counts
    parts = [f"{counts[s]} {s}" for s in STATUSES if counts[s]]
    taken = sum(counts[s] for s in TAKEN)
    return f"{day_date(day.day)}: {taken}/{sum(counts.values())} taken ({', '.join(parts)})"


def _day_cell(day: DayResult, x: int, y: int) -> str:
    colour = band_colour(day.percent)
    return (
        f'<g class="day" data-date="{day_date(day.day)}" data-percent="{day.percent}">'
        f"<title>{escape(_day_tooltip(day))}</title>"
        f'<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" rx="4" fill="{colour}"/>'
        f'<text x="{x + 5}" y="{y + 16}">{day_date(day.day).day}</text>'
        f'<text x="{x + 5}" y="{y + CELL - 8}" font-weight="bold">'
        f"{_percent_text(day.percent)}</text></g>"
    )


def _calendar_svg(report: Report) -> str:
    weeks = calendar_weeks(report)
    width = LEFT + 7 * (CELL + GAP)
    height = TOP + len(weeks) * (CELL + GAP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="calendar" width="{width}" '
        f'height="{height}" role="img" aria-label="adherence calendar">'
    ]
    for column, name in enumerate(WEEKDAYS):
        parts.append(f'<text x="{LEFT + column * (CELL + GAP) + 15}" y="14">{name}</text>')
    for row, week in enumerate(weeks):
        y = TOP + row * (CELL + GAP)
        first = next(d for d in week if d is not None)
        monday = day_date(first.day - day_date(first.day).weekday())
        parts.append(f'<text x="0" y="{y + CELL // 2 + 4}">{monday}</text>')
        for column, day in enumerate(week):
            if day is not None:
                parts.append(_day_cell(day, LEFT + column * (CELL + GAP), y))
    parts.append("</svg>")
    return "".join(parts)


def _legend() -> str:
    spans = [f'<span style="background:{c}">{escape(label)}</span>' for _, c, label in BANDS]
    spans.append(f'<span style="background:{NO_DATA_COLOUR}">no doses</span>')
    return f'<p class="legend">{"".join(spans)}</p>'


def _dose_table(report: Report) -> str:
    statuses = report.shown_statuses
    head = "".join(f"<th>{escape(c)}</th>" for c in ("dose", "slot", *statuses, "reason", "taken"))
    rows = []
    for entry in report.entries:
        reasons = ", ".join(f"{why} ×{n}" for why, n in sorted(entry.reasons.items())) or "-"
        name = entry.entry_id + (" (reminder)" if entry.reminder_only else "")
        cells = [name, entry.slot_id, *(str(entry.counts[s]) for s in statuses), reasons]
        cells.append(_percent_text(entry.percent))
        rows.append(f'<tr class="dose">{"".join(f"<td>{escape(c)}</td>" for c in cells)}</tr>')
    return (
        f'<table class="doses"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def render_html(report: Report) -> str:
    overrides = "".join(f"<li>{escape(line)}</li>" for line in overrides_lines(report))
    title = f"Adherence of {report.device_id}, {report.first} to {report.last}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(title)}</title>
<style>{_CSS}</style></head>
<body>
<h1>{escape(title)}</h1>
<p>Device <strong class="device">{escape(report.device_id)}</strong>,
schedule {escape(", ".join(report.schedule_names))},
<span class="range">{report.first} to {report.last}</span>.</p>
<p class="overall">Overall {_percent_text(report.percent)} taken: {escape(report.summary())}.
Late means dispensed more than {LATE_AFTER_MIN} minutes after the slot time.</p>
<section><h2>By day</h2>{_calendar_svg(report)}{_legend()}</section>
<section><h2>Per dose</h2>{_dose_table(report)}</section>
<section><h2>Clinician overrides</h2><ul class="overrides">{overrides}</ul></section>
</body></html>
"""
