"""Keys for `pillctl calibrate`: a servo's pulse width nudged from the keyboard.

Keys come from any text stream: the terminal in cbreak mode, or a pipe (tests feed one).
Up/+ and down/- move 10 us, right and left 50 us, Enter keeps the width, q or Ctrl-C stops
without saving. Widths stay within the firmware's 500-2500 us (dispenser/setupfiles.py).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TextIO

from dispenser.setupfiles import MAX_US, MIN_US

SMALL_US = 10
LARGE_US = 50
ENTER, QUIT = "enter", "quit"
_ESCAPES = {"A": SMALL_US, "B": -SMALL_US, "C": LARGE_US, "D": -LARGE_US}  # arrows, ESC [ X
_PLAIN = {"+": SMALL_US, "=": SMALL_US, "-": -SMALL_US, "_": -SMALL_US}
_ENDS = {"\r": ENTER, "\n": ENTER, "q": QUIT, "\x03": QUIT}


def keys(stream: TextIO) -> Iterator[int | str]:
    """Each key as a step in microseconds, ENTER or QUIT; other keys are ignored. Ends
    with the stream."""
    while char := stream.read(1):
        if char == "\x1b":
            if stream.read(1) == "[":  # an arrow: ESC [ A..D; a lone ESC stops
                step = _ESCAPES.get(stream.read(1))
                if step is not None:
                    yield step
                continue
            yield QUIT
        elif char in _PLAIN:
            yield _PLAIN[char]
        elif char in _ENDS:
            yield _ENDS[char]


def nudged(width: int, step: int) -> int:
    return max(MIN_US, min(MAX_US, width + step))


@contextlib.contextmanager
def key_stream() -> Iterator[TextIO]:
    """stdin, one key at a time: a terminal goes into cbreak mode (no Enter needed, no
    echo) until the block ends; a pipe is read as it is."""
    stdin = sys.stdin
    if not stdin.isatty():
        yield stdin
        return
    import termios
    import tty

    fd = stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        with os.fdopen(os.dup(fd), "r") as keys:  # closed (the duplicate fd too) at the end
            yield keys
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
