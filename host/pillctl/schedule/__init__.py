"""The schedule language: load a TOML schedule, check it against the safety rules, compile it.

Public API (used by the commands and by ``pillctl push``):

- ``check_file(path, start=None) -> CheckResult``: the parsed schedule (or None), every
  finding (each with its line in the file) and, when there is no error, the compiled device
  file that the firmware's own check accepted. validate, show, compile, export-ics and push
  all start here, so they share one front end and one verdict.
- ``compile_file(path, start=None) -> bytes``: the device schedule file; raises
  ``ScheduleRejected`` (a ``PillctlError``) when the schedule has errors.
- ``verify(data) -> bool``: the device's hash check of a compiled file.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from pillctl.errors import PillctlError
from pillctl.schedule.checks import check_schedule
from pillctl.schedule.compiler import compile_schedule, compile_to_bytes
from pillctl.schedule.device_check import device_findings
from pillctl.schedule.findings import Finding, has_errors
from pillctl.schedule.hashing import verify, with_hash
from pillctl.schedule.model import Schedule
from pillctl.schedule.parse import parse_schedule
from pillctl.schedule.source import LoadFailed, read_document
from pillctl.schedule.tomlscan import line_of

__all__ = [
    "CheckResult",
    "Finding",
    "Schedule",
    "ScheduleRejected",
    "check_file",
    "compile_file",
    "compile_schedule",
    "require_valid",
    "verify",
    "with_hash",
]


@dataclass(frozen=True)
class CheckResult:
    path: Path
    schedule: Schedule | None
    """None when the file could not be read or parsed into a schedule."""
    findings: list[Finding]
    compiled: bytes | None = None
    """The device file, when the schedule has no errors (the firmware's check passed)."""

    @property
    def ok(self) -> bool:
        return self.schedule is not None and not has_errors(self.findings)


class ScheduleRejected(PillctlError):
    """The schedule has errors; ``result.findings`` lists them."""

    def __init__(self, result: CheckResult):
        errors = [finding for finding in result.findings if finding.is_error]
        first = errors[0].render() if errors else "schedule could not be read"
        more = f" (and {len(errors) - 1} more; run pillctl validate)" if len(errors) > 1 else ""
        super().__init__(f"{result.path}: {first}{more}")
        self.result = result


def _located(findings: list[Finding], lines: dict[str, int]) -> list[Finding]:
    """Each finding with the line of its path in the file (tomlscan); a finding about
    something the file lacks altogether, such as a top-level key, points at line 1."""
    return [
        finding
        if finding.line is not None
        else replace(finding, line=line_of(lines, finding.path) or 1)
        for finding in findings
    ]


def check_file(path: str | Path, start: date | None = None) -> CheckResult:
    """Read, parse and check a schedule file, then compile it as of ``start`` (default:
    today) and run the firmware's own check on the result; never raises for bad content."""
    path = Path(path)
    try:
        document = read_document(path)
    except LoadFailed as failure:
        return CheckResult(path, None, [failure.finding])
    schedule, schema_findings = parse_schedule(document.data, path.stem)
    if schedule is None:
        return CheckResult(path, None, _located(schema_findings, document.lines))
    findings = check_schedule(schedule)
    compiled = None
    if not has_errors(findings):
        compiled = compile_to_bytes(schedule, start or date.today())
        findings += device_findings(schedule, compiled)
    findings = _located(findings, document.lines)
    return CheckResult(path, schedule, findings, None if has_errors(findings) else compiled)


def require_valid(path: str | Path, start: date | None = None) -> CheckResult:
    """``check_file``, raising ScheduleRejected unless the schedule is free of errors."""
    result = check_file(path, start)
    if not result.ok:
        raise ScheduleRejected(result)
    return result


def compile_file(path: str | Path, start: date | None = None) -> bytes:
    """The device schedule file for ``path``, compiled as of ``start`` (default: today)."""
    compiled = require_valid(path, start).compiled
    assert compiled is not None  # require_valid guarantees it
    return compiled
