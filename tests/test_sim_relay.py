"""The sim's serial relay survives a board killed while the relay thread is between taking
the current device and waiting on it (what a power cut does under load), and passes on the
bytes behind a Ctrl-C only once the board took the interrupt."""

from __future__ import annotations

import os
import select
import sys
import threading
import time

import pytest

from pillctl.sim import serialpty
from pillctl.sim.serialpty import ClientPty, DevicePty, Relay


def _read_until(fd: int, wanted: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen and time.monotonic() < deadline:
        readable, _, _ = select.select([fd], [], [], 0.1)
        if readable:
            seen += os.read(fd, 4096)
    return seen


def test_a_board_killed_while_the_relay_takes_its_device_does_not_kill_the_relay(monkeypatch):
    client = ClientPty(None)
    relay = Relay(client)
    old = DevicePty()
    relay.attach(old)
    real_select = select.select
    cut = threading.Event()

    def select_after_a_cut(fds, *args):
        # The runner's power cut runs right after the relay took `old` as its device and
        # before its select(): under load the relay thread can sleep through a whole cut.
        if not cut.is_set() and old.master in fds:
            cut.set()
            relay.attach(None)  # SimRunner._kill: detach, kill the board, let the pty go
            relay.release(old)
        return real_select(fds, *args)

    monkeypatch.setattr(serialpty.select, "select", select_after_a_cut)
    relay.start()
    try:
        assert cut.wait(5)
        new = DevicePty()
        relay.attach(new)
        user = os.open(client.path, os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(user, b"hello\n")
            assert b"hello" in _read_until(new.slave, b"hello", 5)  # client -> board
            os.write(new.slave, b"answer\n")
            assert b"answer" in _read_until(user, b"answer", 5)  # board -> client
        finally:
            os.close(user)
            relay.attach(None)
            relay.release(new)  # closed by the relay thread, as the runner has it
        assert relay.is_alive()
    finally:
        relay.stop()
        # Before the client's pty goes: a relay thread still running would select() on a
        # closed descriptor, or on the next test's that reused its number.
        relay.join(5)
        client.close()


# A stand-in for board_process.py on a loaded machine: its thread handles a SIGINT 0.3 s
# late. It reports whether the bytes after the Ctrl-C reached it after the interrupt.
SLOW_BOARD = r"""
import os, signal, sys, termios, threading, time
ack = int(os.environ.get("PILLCTL_SIM_ACK_FD", "-1"))
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
interrupted = threading.Event()

def take():
    while True:
        signal.sigwait({signal.SIGINT})
        time.sleep(0.3)
        interrupted.set()
        os.write(ack, b"A")

threading.Thread(target=take, daemon=True).start()
if sys.argv[1] == "no-isig":  # as MicroPython's REPL reads: 0x03 is a character
    attrs = termios.tcgetattr(0)
    attrs[3] &= ~termios.ISIG
    termios.tcsetattr(0, termios.TCSANOW, attrs)
if ack >= 0:
    os.write(ack, b"R")
os.write(1, b"ready\n")
seen = b""
while b"hello" not in seen:
    seen += os.read(0, 100)
os.write(1, b"%s %r\n" % (b"interrupted" if interrupted.is_set() else b"read", seen))
"""


@pytest.mark.parametrize(
    "mode, acks, expected",
    [
        # The relay holds "hello" until the board took the SIGINT, and passes it on after.
        # ("ab" and "cd" are gone: the line discipline flushes the input at a Ctrl-C, as a
        # Pico empties its USB input buffer.)
        ("isig", True, b"interrupted b'hello'"),
        # A Ctrl-C that raises no SIGINT (the REPL's raw mode) is a byte: nothing to wait for.
        ("no-isig", True, b"read b'ab\\x03cd\\x03hello'"),
        # A board process that never acknowledges (not board_process.py): no wait either.
        ("isig", False, b"read b'hello'"),
    ],
)
def test_bytes_behind_a_ctrl_c_reach_the_board_after_it_took_the_interrupt(
    monkeypatch, mode, acks, expected
):
    monkeypatch.setattr(serialpty, "ACK_TIMEOUT_S", 30.0)  # a wrong wait would show
    client = ClientPty(None)
    relay = Relay(client)
    device = DevicePty(acks=acks)
    board = device.start(
        [sys.executable, "-c", SLOW_BOARD, mode], dict(os.environ), ignore_sigint=False
    )
    relay.attach(device)
    relay.start()
    user = os.open(client.path, os.O_RDWR | os.O_NOCTTY)
    try:
        assert b"ready" in _read_until(user, b"ready\n", 10)
        started = time.monotonic()
        os.write(user, b"ab\x03cd\x03hello")
        seen = _read_until(user, b"'\n", 10)
        assert expected in seen, seen
        assert time.monotonic() - started < 10
    finally:
        os.close(user)
        board.kill()
        board.wait()
        relay.stop()
        relay.join(5)
        device.close()
        client.close()
