"""Reading a schedule file into a TOML document, with every failure as a located finding.

Floats are parsed as ``Decimal`` so amounts such as 12.5 µg convert exactly. The source is
scanned first (tomlscan.py): that bounds nesting and value lengths before tomllib runs, and
gives the line of every key path for the findings.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pillctl.schedule.findings import INPUT_RULE, SYNTAX_RULE, Finding
from pillctl.schedule.rules import ERROR
from pillctl.schedule.tomlscan import ScanError, scan

MAX_SCHEDULE_BYTES = 256 * 1024
"""A hand-written schedule is a few KB; anything far larger is a mistake, not a schedule."""

_BARE_CLOCK = re.compile(r"=\s*\d{1,2}:\d{2}\s*(#.*)?$")
_LOCATION = re.compile(r"^(?P<what>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)$")


class LoadFailed(Exception):
    """The file could not be turned into a TOML document; ``finding`` says why."""

    def __init__(self, finding: Finding):
        super().__init__(finding.message)
        self.finding = finding


def _input_error(message: str, raw: bytes = b"", offset: int | None = None) -> LoadFailed:
    """An INPUT finding, at the line and column of byte ``offset`` of ``raw`` if given."""
    if offset is None:
        return LoadFailed(Finding(INPUT_RULE, ERROR, message))
    line = raw.count(b"\n", 0, offset) + 1
    column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return LoadFailed(Finding(INPUT_RULE, ERROR, message, line=line, column=column))


@dataclass(frozen=True)
class Document:
    data: dict
    lines: dict[str, int]
    """Key path -> line in the file (tomlscan.scan)."""


def read_document(path: Path) -> Document:
    """The parsed TOML of ``path``; raises LoadFailed for unreadable, binary or invalid files."""
    try:
        size = path.stat().st_size
        if size > MAX_SCHEDULE_BYTES:
            raise _input_error(
                f"file is {size} bytes; a schedule is at most {MAX_SCHEDULE_BYTES} bytes"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise _input_error(f"cannot read the file: {exc.strerror or exc}") from exc
    return parse_document(raw)


def parse_document(raw: bytes) -> Document:
    if b"\x00" in raw:
        raise _input_error(
            "file is binary (it contains NUL bytes), not a TOML schedule", raw, raw.index(b"\x00")
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _input_error(
            f"file is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8",
            raw,
            exc.start,
        ) from exc
    try:
        lines = scan(text)
    except ScanError as exc:
        raise LoadFailed(
            Finding(SYNTAX_RULE, ERROR, exc.message, line=exc.line, column=exc.column)
        ) from exc
    try:
        return Document(tomllib.loads(text, parse_float=Decimal), lines)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _LOCATION.match(message)
        if match is None:
            raise LoadFailed(Finding(SYNTAX_RULE, ERROR, f"TOML syntax: {message}")) from exc
        line = int(match["line"])
        raise LoadFailed(
            Finding(
                SYNTAX_RULE,
                ERROR,
                f"TOML syntax: {match['what']}{_hint(text, line)}",
                line=line,
                column=int(match["column"]),
            )
        ) from exc


def _hint(text: str, line: int) -> str:
    """What to do about the commonest syntax error: a time of day written bare."""
    lines = text.splitlines()
    if 0 < line <= len(lines) and _BARE_CLOCK.search(lines[line - 1]):
        return '; write a time as a string, "07:30", or with seconds, 07:30:00'
    return ""
