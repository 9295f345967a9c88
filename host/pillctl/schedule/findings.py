"""A finding: one problem (or note) about a schedule, with where it is and why it matters."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pillctl.schedule.rules import ERROR

SYNTAX_RULE = "TOML"
"""Rule id of a TOML syntax error (the file could not be parsed at all)."""
SCHEMA_RULE = "SCHEMA"
"""Rule id of a structural problem: wrong type, unknown key, missing field, bad reference."""
INPUT_RULE = "INPUT"
"""Rule id of a file that cannot be a schedule at all (unreadable, too big, not text)."""
DEVICE_RULE = "DEVICE"
"""Rule id of a refusal by the firmware's own schedule check (device_check.py)."""


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    message: str
    path: str = ""
    """Dotted field path in the schedule, e.g. ``doses[2].pills``."""
    line: int | None = None
    column: int | None = None
    value: str | None = None
    limit: str | None = None
    source: str | None = None
    override: str | None = None
    """``clinician: reason`` when a clinician override applies to this finding."""

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def as_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value is not None}

    def render(self) -> str:
        """One human line: severity, rule, location, message, then value/limit/source."""
        where = self.path
        if self.line is not None:
            where = f"line {self.line}"
            if self.column is not None:
                where += f", column {self.column}"
            if self.path:
                where += f" ({self.path})"
        text = f"{self.severity} {self.rule}"
        if where:
            text += f" at {where}"
        text += f": {self.message}"
        details = []
        if self.value is not None:
            details.append(f"value {self.value}")
        if self.limit is not None:
            details.append(f"limit {self.limit}")
        if self.source is not None:
            details.append(f"source: {self.source}")
        if self.override is not None:
            details.append(f"overridden by {self.override}")
        if details:
            text += f" ({'; '.join(details)})"
        return text


def has_errors(findings: list[Finding]) -> bool:
    return any(finding.is_error for finding in findings)
