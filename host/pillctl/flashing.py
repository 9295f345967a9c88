"""`pillctl flash`: build the firmware image, deploy it with mpremote, restart and verify.

The steps, each its own function so the command (and tests) can follow along:
1. build_image: mpy-cross every module, the board file too (`import board` finds board.mpy
   as well as board.py); only main.py stays source, because MicroPython runs main.py
   itself and looks for no main.mpy.
2. deploy: remove the old dispenser/ tree (stale modules waste flash and confuse) and the
   source twin of each top-level module (a board.py left by an older flash would shadow the
   new board.mpy: MicroPython tries .py first), create the folders, copy the files, all in
   one mpremote session.
3. restart: the board's own reset, then wait (bounded) until it answers hello.
4. verify: hello reports the source tree's firmware version and the board flashed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import serial

import dispenser
from pillctl.clocksync import ClockSync, sync_clock
from pillctl.device import open_device, open_failure, probe_hello
from pillctl.errors import PillctlError
from pillctl.micropython_version import (
    check_micropython,
    mpy_cross_version,
    read_board_info,
)
from pillctl.mpremote import Mpremote
from pillctl.mpy import compile_mpy
from pillctl.sim.firmware_image import firmware_files
from pillctl.unlock import request_maintenance

BOARDS = ("pico", "pico_w", "pico2", "sim", "sim_w")  # sim_w: the simulated Pico W
# Only native code depends on the CPU; bytecode-only modules would load anywhere anyway.
MARCH = {"pico": "armv6m", "pico_w": "armv6m", "pico2": "armv7emsp", "sim": None, "sim_w": None}
# A hard reset, on the sim too (its machine shim): a soft one from mpremote's raw REPL
# would come back in the raw REPL without running main.py, as on a Pico.
RESET_CODE = "import machine; machine.reset()"
KEEP_AS_SOURCE = {"main.py"}
FIRMWARE_DIR = "dispenser"
RESTART_TIMEOUT_S = 20.0
HELLO_RETRY_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class ImageFile:
    local: Path
    target: str  # path on the device, relative to its root

    @property
    def size(self) -> int:
        return self.local.stat().st_size


@dataclass(frozen=True)
class FlashResult:
    board: str
    files: int
    size: int
    seconds: float
    hello: dict
    clock: ClockSync


def check_board(board: str) -> str:
    if board not in BOARDS:
        raise PillctlError(f"unknown board {board!r}; choose one of {', '.join(BOARDS)}")
    return board


def stop_running_app(port: str, asked: str | None, on_hold: Callable[[str], None]) -> str | None:
    """The board the running app says it is, once the app has opened its maintenance REPL
    (a person at the device agreed: pillctl.unlock), over one connection; refused at once
    when it is not the board `asked`. None when nothing of ours answers: a blank board, or
    one in its REPL, needs no hold."""
    try:
        device = open_device(port, HELLO_RETRY_TIMEOUT_S)
    except PillctlError:
        return None
    with device:
        reported = device.hello.get("board")
        refuse_other_board(port, asked, reported)
        request_maintenance(device, on_hold)
    return reported


def refuse_other_board(port: str, asked: str | None, reported: str | None) -> None:
    """--board must be the board the firmware reports (a blank board reports none)."""
    if asked is not None and reported is not None and asked != reported:
        raise PillctlError(
            f"{port} runs the dispenser firmware for board {reported!r}, not {asked!r}: "
            f"flash with --board {reported} (or without --board)"
        )


def choose_board(port: str, asked: str | None, reported: str | None) -> str:
    """--board, checked against what the board's firmware reports; without --board, the
    reported one."""
    refuse_other_board(port, asked, reported)
    board = asked or reported
    if board is None:
        raise PillctlError(
            f"{port} runs no dispenser firmware (a blank board), so its board is unknown; "
            f"pass --board ({'|'.join(BOARDS)})"
        )
    return check_board(board)


def check_port_exists(port: str) -> None:
    # A device path that is not there fails here with a plain message, not in mpremote.
    if os.sep in port and not os.path.exists(port):
        raise PillctlError(f"{port}: no such port; plug the board in or check --port")


REPL_PROBE_S = 3.0


def check_repl_answers(port: str) -> None:
    """Fail fast, before mpremote's long waits, when nothing MicroPython-like answers.

    Ctrl-C is what mpremote sends first anyway: our firmware in maintenance mode (after
    the hold flash asked for), in safe mode, or a blank board answers it with the REPL
    prompt; the running app ignores it, which flash() asked past before coming here.
    """
    try:
        with serial.Serial(port, 115200, timeout=0.2, exclusive=True) as line:
            line.write(b"\r\x03\x03")
            seen = b""
            deadline = time.monotonic() + REPL_PROBE_S
            while time.monotonic() < deadline and b">" not in seen:
                seen += line.read(256)
    except serial.SerialException as exc:
        raise PillctlError(open_failure(port, exc)) from exc
    except OSError as exc:
        raise PillctlError(f"cannot use {port}: {exc.strerror or exc}") from exc
    if b">" not in seen:
        raise PillctlError(
            f"no MicroPython REPL answers on {port} within {REPL_PROBE_S:g} s; "
            "is MicroPython installed on the board (BOOTSEL + the .uf2 from micropython.org)? "
            "If the dispenser app runs, run `pillctl maintenance` and hold its button"
        )


def build_image(board: str, out: Path, native: bool = True) -> list[ImageFile]:
    """Compile the firmware for `board` into `out`; returns what to copy where. Without
    `native`, plain bytecode: it loads on every MicroPython of the same .mpy major version."""
    image = []
    for source, target in firmware_files(board):
        if target in KEEP_AS_SOURCE:
            image.append(ImageFile(source, target))
            continue
        compiled = str(PurePosixPath(target).with_suffix(".mpy"))
        local = out / compiled
        compile_mpy(source, local, target, MARCH[board] if native else None)
        image.append(ImageFile(local, compiled))
    return image


def device_dirs(image: list[ImageFile]) -> list[str]:
    """Every folder the image needs on the device, parents first."""
    dirs = {str(parent) for f in image for parent in PurePosixPath(f.target).parents}
    dirs.discard(".")
    return sorted(dirs, key=lambda d: (d.count("/"), d))


def deploy(mpremote: Mpremote, image: list[ImageFile], on_copied: Callable[[int], None]) -> None:
    """Replace the firmware on the device; `on_copied(n)` after each of the n files."""
    listing = mpremote.run("fs", "ls", ":")
    commands: list[list[str]] = []
    if f" {FIRMWARE_DIR}/" in listing:
        commands.append(["fs", "rm", "-r", f":{FIRMWARE_DIR}"])
    present = {line.split()[-1] for line in listing.splitlines() if line.strip()}
    for f in image:
        twin = str(PurePosixPath(f.target).with_suffix(".py"))
        if "/" not in f.target and f.target.endswith(".mpy") and twin in present:
            commands.append(["fs", "rm", f":{twin}"])
    commands += [["fs", "mkdir", f":{d}"] for d in device_dirs(image)]
    commands += [["fs", "cp", str(f.local), f":{f.target}"] for f in image]
    chained = [word for command in commands for word in ("+", *command)][1:]
    copied = 0

    def count_copies(line: str) -> None:
        nonlocal copied
        if line.startswith("cp "):  # mpremote echoes each command before it runs it
            if copied:
                on_copied(copied)
            copied += 1

    mpremote.stream(chained, count_copies)
    if copied:
        on_copied(copied)


def restart(mpremote: Mpremote) -> None:
    """Start the reset and return once the board has taken the code (its raw REPL's OK):
    a resetting board never ends that code's output, so following it only waits for the
    timeout where the port stays (the sim's pty); `wait_for_hello` then waits for the app."""
    try:
        mpremote.run("exec", "--no-follow", RESET_CODE, timeout=10)
    except PillctlError:
        pass  # expected: a resetting Pico drops off USB before mpremote hears back


def wait_for_hello(port: str, timeout: float = RESTART_TIMEOUT_S) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hello = probe_hello(port, HELLO_RETRY_TIMEOUT_S)
        if hello is not None:
            return hello
        time.sleep(0.3)  # a Pico re-enumerating on USB: the port comes back shortly
    raise PillctlError(
        f"{port} did not answer hello within {timeout:g} s after the restart; "
        "reconnect the board and run `pillctl status`"
    )


def verify(hello: dict, board: str) -> None:
    if hello.get("fw") != dispenser.VERSION:
        raise PillctlError(
            f"after flashing, the board reports firmware {hello.get('fw')!r}, "
            f"expected {dispenser.VERSION!r}; flash again"
        )
    if hello.get("board") != board:
        raise PillctlError(
            f"after flashing, the board calls itself {hello.get('board')!r}, not {board!r}; "
            "check --board"
        )


def flash(
    port: str,
    board: str | None,
    workdir: Path,
    on_start: Callable[[int], None] = lambda total: None,
    on_copied: Callable[[int], None] = lambda done: None,
    on_hold: Callable[[str], None] = lambda line: None,
) -> FlashResult:
    """Check the board and its MicroPython, build into `workdir`, deploy to `port`,
    restart, set the clock, verify. Nothing is written before every check has passed. Over
    a running app, the maintenance REPL is asked for first: `on_hold` tells the person to
    hold the button (pillctl.unlock); a blank board, or one in its REPL, needs no hold."""
    started = time.monotonic()
    check_port_exists(port)
    reported = stop_running_app(port, board, on_hold)
    check_repl_answers(port)
    mpremote = Mpremote(port)
    info = read_board_info(mpremote)
    try:
        board = choose_board(port, board, reported or info.board)
        native = check_micropython(port, info, mpy_cross_version())
    except PillctlError:
        if info.board is not None:
            restart(mpremote)  # our maintenance request stopped its app: bring it back
        raise
    image = build_image(board, workdir, native)
    on_start(len(image))
    deploy(mpremote, image, on_copied)
    restart(mpremote)
    wait_for_hello(port)
    with open_device(port) as device:
        clock = sync_clock(device)
        hello = device.request("hello")
    verify(hello, board)
    return FlashResult(
        board=board,
        files=len(image),
        size=sum(f.size for f in image),
        seconds=time.monotonic() - started,
        hello=hello,
        clock=clock,
    )
