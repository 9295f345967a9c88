"""The adherence report as ONE self-contained HTML page a caregiver can print: a calendar
whose every cell says its figures in text and symbols (the colour only repeats them), a
table per dose, when each compartment runs out, the clinician overrides. No scripts, no
network; black text on light fills of at least 7:1 contrast."""

from __future__ import annotations

from html import escape

from pillctl.adherence import (
    BANDS,
    LATE_AFTER_MIN,
    MISSED,
    NO_DATA_COLOUR,
    PENDING_COLOUR,
    REFUSED,
    STATUSES,
    TAKEN,
    TEXT_COLOUR,
    DayResult,
    Report,
    calendar_weeks,
    day_colour,
    day_date,
)
from pillctl.adherence_terminal import WEEKDAYS, legend_symbols, override_items, selftest_line

CELL_W = 128  # px, one calendar day: the calendar spans the page's width
CELL_H = 76
GAP = 6
LEFT = 96  # room for the week labels
TOP = 24  # room for the weekday labels

_CSS = f"""
body {{ font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 62em;
  padding: 0 1em; color: {TEXT_COLOUR}; line-height: 1.4; }}
h1 {{ font-size: 1.5em; margin: 0 0 0.2em; }}
h2 {{ font-size: 1.15em; margin: 1.2em 0 0.4em; }}
.sub {{ margin: 0 0 0.8em; }}
.overall {{ font-size: 1.15em; font-weight: bold; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #767676; padding: 0.3em 0.6em; text-align: right; }}
th:nth-child(-n+2), td:nth-child(-n+2) {{ text-align: left; }}
svg.calendar {{ width: 100%; height: auto; }}
svg text {{ font-size: 13px; fill: {TEXT_COLOUR}; }}
.legend {{ display: flex; flex-wrap: wrap; gap: 0.4em 1em; padding: 0; list-style: none; }}
.legend span.swatch {{ display: inline-block; width: 1.2em; height: 1em;
  border: 1px solid #767676; vertical-align: middle; margin-right: 0.3em; }}
@media print {{
  body {{ margin: 0; max-width: none; font-size: 11pt; }}
  * {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
  section {{ break-inside: avoid; }}
}}
"""


def _day_tooltip(day: DayResult) -> str:
    counts = day.counts
    parts = [f"{counts[s]} {s}" for s in STATUSES if counts[s]]
    if day.pending:
        parts.append(f"{day.pending} pending")
    taken = sum(counts[s] for s in TAKEN)
    return f"{day_date(day.day)}: {taken}/{sum(counts.values())} taken ({', '.join(parts)})"


def _day_cell(day: DayResult, x: int, y: int) -> str:
    return (
        f'<g class="day" data-date="{day_date(day.day)}" data-percent="{day.percent}" '
        f'data-pending="{day.pending}">'
        f"<title>{escape(_day_tooltip(day))}</title>"
        f'<rect x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}" rx="4" '
        f'fill="{day_colour(day)}" stroke="#767676"/>'
        f'<text x="{x + 6}" y="{y + 17}">{day_date(day.day).day}</text>'
        f'<text x="{x + 6}" y="{y + 42}" font-weight="bold">{escape(day.label())}</text>'
        f'<text x="{x + 6}" y="{y + 64}">{escape(day.marks())}</text></g>'
    )


def _calendar_svg(report: Report) -> str:
    weeks = calendar_weeks(report)
    width = LEFT + 7 * (CELL_W + GAP)
    height = TOP + len(weeks) * (CELL_H + GAP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="calendar" viewBox="0 0 {width} '
        f'{height}" width="{width}" height="{height}" role="img" aria-label="adherence by day">'
    ]
    for column, name in enumerate(WEEKDAYS):
        parts.append(f'<text x="{LEFT + column * (CELL_W + GAP) + 6}" y="16">{name}</text>')
    for row, week in enumerate(weeks):
        y = TOP + row * (CELL_H + GAP)
        first = next(d for d in week if d is not None)
        monday = day_date(first.day - day_date(first.day).weekday())
        parts.append(f'<text x="0" y="{y + CELL_H // 2 + 4}">{monday}</text>')
        for column, day in enumerate(week):
            if day is not None:
                parts.append(_day_cell(day, LEFT + column * (CELL_W + GAP), y))
    parts.append("</svg>")
    return "".join(parts)


def _legend() -> str:
    def item(colour: str, label: str) -> str:
        return f'<li><span class="swatch" style="background:{colour}"></span>{escape(label)}</li>'

    items = [item(c, label) for _, c, label in BANDS]
    items.append(item(PENDING_COLOUR, "day not over yet"))
    items.append(item(NO_DATA_COLOUR, "no doses"))
    items += [f"<li>{escape(text)}</li>" for text in legend_symbols()]
    return f'<ul class="legend">{"".join(items)}</ul>'


def _dose_table(report: Report) -> str:
    statuses = report.shown_statuses
    columns = ("dose", "meal", *statuses, *(("why refused",) if report.has_reasons else ()))
    head = "".join(f"<th>{escape(c)}</th>" for c in (*columns, "taken"))
    rows = []
    for entry in report.entries:
        name = report.dose_name(entry.entry_id) + (" (reminder)" if entry.reminder_only else "")
        cells = [name, report.meal(entry.slot_id), *(str(entry.counts[s]) for s in statuses)]
        if report.has_reasons:
            cells.append(", ".join(f"{why} ×{n}" for why, n in sorted(entry.reasons.items())))
        cells.append("none due yet" if entry.whole_percent is None else f"{entry.whole_percent}%")
        rows.append(f'<tr class="dose">{"".join(f"<td>{escape(c)}</td>" for c in cells)}</tr>')
    return (
        f'<table class="doses"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def not_taken_lines(report: Report) -> list[str]:
    """Each dose missed or refused, by day, in words: the calendar's ✗ and ⊘ say how many,
    this says which (a hover tooltip is lost on paper)."""
    lines = []
    for day in report.days:
        for inst in day.instances:
            if inst.status not in (MISSED, REFUSED):
                continue
            why = f" ({inst.reason})" if inst.reason else ""
            lines.append(
                f"{day_date(day.day):%A %Y-%m-%d}: {report.dose_name(inst.entry_id)} at "
                f"{report.meal(inst.slot_id)}, {inst.status}{why}"
            )
    return lines


def render_html(report: Report) -> str:
    overrides = "".join(f"<li>{escape(line)}</li>" for line in override_items(report) or ["none"])
    missed = "".join(f"<li>{escape(line)}</li>" for line in not_taken_lines(report))
    missed = missed or "<li>none: every dose that was due was taken</li>"
    run_out = "".join(f"<li>{escape(line)}</li>" for line in report.run_out)
    title = f"Supplement adherence: {report.title}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{_CSS}</style></head>
<body>
<h1>{escape(title)}</h1>
<p class="sub"><span class="range">{report.first} to {report.last}</span>,
schedule {escape(", ".join(report.schedule_names))},
device id <span class="device">{escape(report.device_id)}</span></p>
<p class="overall">{escape(report.overall())}: {escape(report.summary())}.</p>
<p>Late means dispensed more than {LATE_AFTER_MIN} minutes after the meal's time.</p>
<section><h2>By day</h2>{_calendar_svg(report)}{_legend()}</section>
<section><h2>Doses not taken</h2><ul class="not-taken">{missed}</ul></section>
<section><h2>Per dose</h2>{_dose_table(report)}</section>
<section><h2>Stock</h2><ul class="run-out">{run_out}</ul></section>
<section><h2>Clinician overrides</h2><ul class="overrides">{overrides}</ul></section>
<p class="selftest">{escape(selftest_line(report))}</p>
</body></html>
"""
