"""``pillctl show FILE``: a typical day's timeline, daily totals and the findings."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pillctl.schedule import check_file
from pillctl.schedule.model import clock
from pillctl.schedule.rules import ERROR, INFO, OVERRIDDEN, WARNING
from pillctl.schedule.summary import nutrient_label, nutrient_totals, timeline
from pillctl.schedule.units import format_amount

_STYLES = {ERROR: "bold red", WARNING: "yellow", INFO: "cyan", OVERRIDDEN: "magenta"}


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def show(ctx: click.Context, file: Path) -> None:
    """Show FILE as a day timeline with totals against RDA and UL."""
    console = Console(highlight=False, soft_wrap=True)
    result = check_file(file)
    schedule = result.schedule
    if schedule is not None:
        console.print(
            f"[bold]{schedule.name}[/bold] ({schedule.timezone}), age {schedule.profile.age}"
        )
        day = Table(title="A typical day", show_lines=False)
        for column in ("time", "window", "slot", "drops / reminders"):
            day.add_column(column)
        for entry in timeline(schedule):
            first, last = entry.slot.window
            kind = "meal, fat" if entry.slot.fat else "meal" if entry.slot.meal else "clock"
            what = escape("\n".join(entry.drops + entry.reminders)) or "[dim]nothing[/dim]"
            day.add_row(
                clock(entry.slot.at),
                f"{clock(first)}-{clock(last)}",
                f"{entry.slot.id} ({kind})",
                what,
            )
        console.print(day)
        diet = bool(schedule.profile.dietary_calcium_mg)
        totals = Table(title="Per-day totals")
        for column in ("nutrient", "per day", "reference", "upper limit"):
            totals.add_column(column)
        for total in nutrient_totals(schedule):
            low = format_amount(total.lowest, total.nutrient)
            high = format_amount(total.highest, total.nutrient)
            limit = format_amount(total.limit, total.nutrient) if total.limit else "none set"
            style = "bold red" if total.limit and total.highest > total.limit else ""
            totals.add_row(
                nutrient_label(total.nutrient, diet),
                low if low == high else f"{low} to {high}",
                total.reference,
                limit,
                style=style,
            )
        console.print(totals)
        for override in schedule.overrides:
            who = escape(f"{override.clinician}: {override.reason}")
            console.print(f"[magenta]override {override.rule}[/magenta] by {who}")
    for finding in result.findings:
        console.print(escape(finding.render()), style=_STYLES.get(finding.severity))
    if not result.findings:
        console.print("no findings")
    if not result.ok:
        ctx.exit(1)
