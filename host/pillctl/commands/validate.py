"""``pillctl validate FILE``: check a schedule against the format and the safety rules."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pillctl.schedule import ScheduleRejected, check_file
from pillctl.schedule.findings import INPUT_RULE, has_errors


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_context
def validate(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Check FILE; exit 0 when clean or warnings only, 1 on any error."""
    result = check_file(file)
    failed = has_errors(result.findings) or result.schedule is None
    if as_json:
        report = {
            "file": str(file),
            "ok": not failed,
            "findings": [finding.as_dict() for finding in result.findings],
        }
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    elif _unreadable(result.findings):  # nothing to list findings of: one line, as any error
        raise ScheduleRejected(result)
    else:
        for finding in result.findings:
            click.echo(f"{file}: {finding.render()}", err=finding.is_error)
        errors = sum(finding.is_error for finding in result.findings)
        others = len(result.findings) - errors
        verdict = "rejected" if failed else "ok"
        click.echo(f"{file}: {verdict} (errors: {errors}, other findings: {others})")
    if failed:
        ctx.exit(1)


def _unreadable(findings) -> bool:
    """The file itself could not be read (missing, a folder, too big): no line to point at."""
    return len(findings) == 1 and findings[0].rule == INPUT_RULE and findings[0].line is None
