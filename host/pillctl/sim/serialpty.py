"""The sim's serial port: two pseudo-terminals joined by a relay.

The firmware runs on pty A, whose line discipline turns Ctrl-C (0x03) into SIGINT, so the
MicroPython process raises KeyboardInterrupt as a Pico does on USB. Clients (pyserial,
mpremote, pillctl) open pty B, which lives as long as the sim does, across reboots. The
relay drops device output that no client reads, as a Pico's USB CDC does with no host.
The relay also follows which REPL the board shows (friendly or raw), because a soft reset
from the raw REPL comes back in the raw REPL without running main.py, as on a Pico.

After a Ctrl-C that raises SIGINT the relay holds the client's next bytes until the board
process (board_process.py) acknowledges that it handled the signal, on a pipe of the
device's: so they reach the board after its KeyboardInterrupt is pending, as on a Pico.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import subprocess
import termios
import threading
import time
import tty
from pathlib import Path

CTRL_C = b"\x03"
ACK_FD_VAR = "PILLCTL_SIM_ACK_FD"  # board_process.py's, which imports nothing of pillctl
ACK_READY, ACK_HANDLED = b"R", b"A"  # board_process.py's acknowledgements
ACK_TIMEOUT_S = 1.0  # a board that stopped acknowledging costs at most this per Ctrl-C


def _raw(fd: int, signals: bool) -> None:
    tty.setraw(fd)
    if signals:
        attrs = termios.tcgetattr(fd)
        attrs[3] |= termios.ISIG
        # Only Ctrl-C is special on a Pico's USB serial. Without this, Ctrl-\ (0x1c) and
        # Ctrl-Z (0x1a) in line noise would send SIGQUIT / SIGTSTP and kill or stop the board.
        attrs[6][termios.VQUIT] = b"\0"  # _POSIX_VDISABLE
        attrs[6][termios.VSUSP] = b"\0"
        termios.tcsetattr(fd, termios.TCSANOW, attrs)


class DevicePty:
    """pty A, the firmware's stdin/stdout for one boot. With `acks`, also a pipe on which
    the board process acknowledges each SIGINT it handled (board_process.py): the board gets
    `ack_write` (close_slave() closes the sim's copy), the relay reads `ack_read`."""

    def __init__(self, acks: bool = False) -> None:
        self.master, self.slave = os.openpty()
        _raw(self.slave, signals=True)
        self.ack_read, self.ack_write = os.pipe() if acks else (-1, -1)
        self.acking = False  # the board said it acknowledges every SIGINT from now on

    def start(
        self, argv: list[str], env: dict[str, str], ignore_sigint: bool, **popen
    ) -> subprocess.Popen:
        """Start the board process on this pty, its controlling terminal (a 0x03 from the
        client raises SIGINT in it), with the acknowledgement pipe if there is one."""
        env = dict(env)
        if self.ack_write >= 0:
            env[ACK_FD_VAR] = str(self.ack_write)

        def controlling_tty() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            if ignore_sigint:
                signal.signal(signal.SIGINT, signal.SIG_IGN)

        process = subprocess.Popen(
            argv,
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave,
            env=env,
            preexec_fn=controlling_tty,
            pass_fds=(self.ack_write,) if self.ack_write >= 0 else (),
            **popen,
        )
        self.close_slave()  # and the sim's end of the board's acknowledgements
        return process

    def close_slave(self) -> None:
        # Close once only: a second close could hit an unrelated file that reused the number.
        if self.slave >= 0:
            os.close(self.slave)
            self.slave = -1
        if self.ack_write >= 0:  # the board holds its own copy: EOF once it is gone
            os.close(self.ack_write)
            self.ack_write = -1

    def close(self) -> None:
        self.close_slave()
        for name in ("master", "ack_read"):
            fd = getattr(self, name)
            if fd >= 0:
                os.close(fd)
                setattr(self, name, -1)

    def _take_acks(self, timeout: float | None) -> bytes:
        """What the board acknowledged, waiting up to `timeout` (None: not at all) for it.
        At end of file (the board is gone) it stops acknowledging."""
        if self.ack_read < 0:
            return b""
        readable, _, _ = select.select([self.ack_read], [], [], timeout or 0)
        if not readable:
            return b""
        data = os.read(self.ack_read, 64)
        if not data:
            self.acking = False
            os.close(self.ack_read)
            self.ack_read = -1
        elif ACK_READY in data:
            self.acking = True
        return data

    def interrupts(self) -> bool:
        """True when a Ctrl-C written now raises SIGINT that the board will acknowledge: it
        said it is ready, and its terminal generates signals (MicroPython's REPL reads with
        ISIG off, taking 0x03 as a character). Stale acknowledgements are dropped here."""
        while self._take_acks(None):
            pass
        if not self.acking:
            return False
        try:
            return bool(termios.tcgetattr(self.master)[3] & termios.ISIG)
        except termios.error:
            return False

    def wait_ack(self) -> bool:
        """Until the board acknowledged the SIGINT of a Ctrl-C just written (True), it went
        away, or ACK_TIMEOUT_S passed."""
        deadline = time.monotonic() + ACK_TIMEOUT_S
        while self.acking and (left := deadline - time.monotonic()) > 0:
            if ACK_HANDLED in self._take_acks(left):
                return True
        return False

    def write(self, data: bytes) -> None:
        """Write client bytes; when they hold a Ctrl-C that raises SIGINT, what follows the
        last one only once the board acknowledged it, so that it comes after the pending
        KeyboardInterrupt. Ctrl-Cs read together go together, as in one USB packet on a
        Pico, where they schedule one KeyboardInterrupt: waiting between them would make the
        second one land in whatever the first one started (maintenance)."""
        at = data.rfind(CTRL_C) + 1
        if at and self.interrupts():
            _write_all(self.master, data[:at])
            self.wait_ack()
            data = data[at:]
        _write_all(self.master, data)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


class ClientPty:
    """pty B, the path users open. We hold its slave open so the master never sees EIO."""

    def __init__(self, link: Path | None) -> None:
        self.master, self._slave = os.openpty()
        _raw(self._slave, signals=False)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        self.link = link
        if link is not None:
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(self.path)

    def close(self) -> None:
        if self.link is not None and self.link.is_symlink():
            self.link.unlink()
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


RAW_BANNER = b"raw REPL; CTRL-B to exit"
FRIENDLY_BANNER = b'Type "help()" for more information.'


class ReplMode:
    """Which REPL the board's output last announced: the raw REPL's banner, or the friendly
    REPL's (after Ctrl-B, or at boot). Banners may be split across reads, so a tail of the
    previous output is kept. The firmware's own output never prints either banner."""

    _KEEP = max(len(RAW_BANNER), len(FRIENDLY_BANNER))

    def __init__(self) -> None:
        self.raw = False
        self._tail = b""

    def reset(self, raw: bool = False) -> None:
        self.raw = raw
        self._tail = b""

    def feed(self, data: bytes) -> None:
        seen = self._tail + data
        raw_at, friendly_at = seen.rfind(RAW_BANNER), seen.rfind(FRIENDLY_BANNER)
        if raw_at != friendly_at:  # both -1 means neither: the mode stays
            self.raw = raw_at > friendly_at
        self._tail = seen[-self._KEEP :]


class Relay(threading.Thread):
    """Copies bytes between the current device pty and the client pty."""

    def __init__(self, client: ClientPty) -> None:
        super().__init__(name="sim-relay", daemon=True)
        self._client = client
        self._device: DevicePty | None = None
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = False
        self.mode = ReplMode()
        self._mute = False  # dropping output until the raw REPL's banner
        self._muted = b""  # the tail of dropped output, for a banner split across reads
        self._released: list[DevicePty] = []  # detached devices for the relay thread to close

    def attach(self, device: DevicePty | None, until_raw_banner: bool = False) -> None:
        """Relay `device` from now on. With `until_raw_banner`, drop its output up to the raw
        REPL's banner: the unix port greets with the friendly REPL, a Pico coming back from a
        soft reset in the raw REPL does not."""
        with self._lock:
            self._device = device
            self._mute = until_raw_banner
            self._muted = b""
        os.write(self._wake_w, b"x")

    def release(self, device: DevicePty) -> None:
        """Close a detached device's pty once the relay thread no longer uses it. Closing it
        from another thread could pull the descriptor from under the relay's select(): the
        relay thread died of EBADF, and every later boot had no serial line."""
        if not self.is_alive():
            device.close()
            return
        with self._lock:
            self._released.append(device)
        os.write(self._wake_w, b"x")

    def to_client(self, data: bytes) -> None:
        """Output of the board's own making (the runner's "soft reboot" line)."""
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._client.master, data)

    def _from_device(self, data: bytes) -> bytes:
        self.mode.feed(data)
        with self._lock:
            if not self._mute:
                return data
            held = self._muted + data
            at = held.find(RAW_BANNER)
            if at < 0:
                self._muted = held[-len(RAW_BANNER) :]
                return b""
            self._mute = False
            self._muted = b""
            return held[at:]

    def stop(self) -> None:
        self._stopping = True
        os.write(self._wake_w, b"x")

    def run(self) -> None:
        client = self._client.master
        while not self._stopping:
            with self._lock:
                device = self._device
                released = [d for d in self._released if d is not device]
                self._released = [d for d in self._released if d is device]
            for old in released:  # detached: this thread holds them no more
                old.close()
            fds = [client, self._wake_r] + ([device.master] if device else [])
            readable, _, _ = select.select(fds, [], [])
            if self._wake_r in readable:
                # attach() changed the device: look again before moving any byte, or a
                # request sent right after a power-on would go to the old (no) device.
                os.read(self._wake_r, 64)
                continue
            if device and device.master in readable:
                try:
                    data = os.read(device.master, 4096)
                except OSError:  # the process died; wait for the next attach
                    with self._lock:
                        if self._device is device:
                            self._device = None
                    continue
                data = self._from_device(data)
                with contextlib.suppress(BlockingIOError, OSError):
                    os.write(client, data)
            if client in readable:
                try:
                    data = os.read(client, 4096)
                except (BlockingIOError, OSError):
                    continue
                if device is not None:
                    with contextlib.suppress(OSError):
                        device.write(data)
        with self._lock:
            released, self._released = self._released, []
        for old in released:
            old.close()
