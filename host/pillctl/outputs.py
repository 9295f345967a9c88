"""Writing a command's output file, with failures as one actionable PillctlError."""

from __future__ import annotations

import os
from pathlib import Path

import click

from pillctl.errors import PillctlError


def write_output(path: Path, data: bytes) -> None:
    """Write ``data`` whole: a temporary file renamed into place, so no half-written output."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as exc:
        raise PillctlError(f"cannot write {path}: {exc.strerror or exc}") from exc


def output_option(what: str):
    """The ``-o/--output FILE`` option of a command that writes one file."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        required=True,
        help=f"Where to write {what}.",
    )


def start_day_option(what: str):
    """``--start YYYY-MM-DD`` (default today), so output for a given day is reproducible."""
    return click.option(
        "--start",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help=f"{what} (YYYY-MM-DD); default today.",
    )
