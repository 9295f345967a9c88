"""image_<board>_kb: the size of everything `pillctl flash --board <board>` writes to a
board's flash (the compiled firmware, the board files, main.py), in KiB. DESIGN.md caps the
Pico's at 48 KiB. Each board's image holds only its own files: `dispenser/net` goes to the
Pico W alone."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pillctl.flashing import build_image

BOARDS = ("pico", "pico_w", "pico2")


def image_kb(board: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        return round(sum(f.size for f in build_image(board, Path(tmp))) / 1024, 1)


def _figure(board: str):
    def figure():
        return f"image_{board}_kb", image_kb(board), "KiB"

    figure.__name__ = f"image_{board}_kb"
    return figure


FIGURES = [_figure(board) for board in BOARDS]
