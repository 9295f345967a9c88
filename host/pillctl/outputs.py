"""Writing a command's output file, with failures as one actionable PillctlError."""

from __future__ import annotations

import os
from pathlib import Path

from pillctl.errors import PillctlError


def write_output(path: Path, data: bytes) -> None:
    """Write ``data`` whole: a temporary file renamed into place, so no half-written output."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as exc:
        raise PillctlError(f"cannot write {path}: {exc.strerror or exc}") from exc
