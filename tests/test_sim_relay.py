"""The sim's serial relay survives a board killed while the relay thread is between taking
the current device and waiting on it (what a power cut does under load)."""

from __future__ import annotations

import os
import select
import threading
import time

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
            new.close()
        assert relay.is_alive()
    finally:
        relay.stop()
        client.close()
