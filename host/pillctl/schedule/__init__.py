"""The schedule language: load a TOML schedule, check it against the safety rules, compile it.

Public API (used by the commands and by ``pillctl push``):

- ``check_file(path) -> CheckResult``: the parsed schedule (or None) and every finding.
- ``compile_file(path, start=None) -> bytes``: the device schedule file; raises
  ``ScheduleRejected`` (a ``PillctlError``) when the schedule has errors.
- ``verify(data) -> bool``: the device's hash check of a compiled file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pillctl.errors import PillctlError
from pillctl.schedule.checks import check_schedule
from pillctl.schedule.compiler import compile_schedule, compile_to_bytes
from pillctl.schedule.findings import Finding, has_errors
from pillctl.schedule.hashing import verify, with_hash
from pillctl.schedule.model import Schedule
from pillctl.schedule.parse import parse_schedule
from pillctl.schedule.source import LoadFailed, read_document

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


def check_file(path: str | Path) -> CheckResult:
    """Read, parse and check a schedule file; never raises for bad content."""
    path = Path(path)
    try:
        document = read_document(path)
    except LoadFailed as failure:
        return CheckResult(path, None, [failure.finding])
    schedule, schema_findings = parse_schedule(document, path.stem)
    if schedule is None:
        return CheckResult(path, None, schema_findings)
    return CheckResult(path, schedule, check_schedule(schedule))


def require_valid(path: str | Path) -> CheckResult:
    """``check_file``, raising ScheduleRejected unless the schedule is free of errors."""
    result = check_file(path)
    if not result.ok:
        raise ScheduleRejected(result)
    return result


def compile_file(path: str | Path, start: date | None = None) -> bytes:
    """The device schedule file for ``path``, compiled as of ``start`` (default: today)."""
    result = require_valid(path)
    assert result.schedule is not None  # require_valid guarantees it
    return compile_to_bytes(result.schedule, start or date.today())
