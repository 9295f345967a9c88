"""A local Mosquitto broker on 127.0.0.1 for the MQTT demo, the tests and the bench.

Debian's `mosquitto` package provides the broker (.ci/run and `make setup-mqtt` install it).
Each broker gets a temporary folder with its own config, log and persistence file, and
listens on a free port of 127.0.0.1 only.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from pillctl.errors import PillctlError

START_TIMEOUT_S = 10


def find_mosquitto() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto",) if Path(p).exists()), None
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    """One broker process. With `users` ({name: password}) it refuses anonymous clients;
    with `tls` (certificate file, key file) it speaks only TLS.
    Persistence is on, saved every second, so a subscriber's session (and the messages
    queued for it) survive a restart, as on a home server."""

    def __init__(
        self,
        workdir: Path,
        users: dict[str, str] | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        binary = find_mosquitto()
        if binary is None:
            raise PillctlError("mosquitto is not installed: run `make setup-mqtt` (Debian)")
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.log_path = workdir / "mosquitto.log"
        self.process: subprocess.Popen | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} 127.0.0.1",
            "persistence true",
            f"persistence_location {workdir}/",
            "autosave_interval 1",
            f"log_dest file {self.log_path}",
            "log_type all",
            "connection_messages true",
        ]
        if tls:
            lines += [f"certfile {tls[0]}", f"keyfile {tls[1]}"]
        if os.geteuid() == 0:
            # Started as root, mosquitto would switch to its own user, which cannot write
            # its log and persistence file into our (private) temporary folder.
            lines.append("user root")
        if users:
            passwd = workdir / "passwd"
            passwd.write_text("")
            for user, password in users.items():
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(passwd), user, password],
                    check=True,
                    capture_output=True,
                )
            passwd.chmod(0o600)
            lines += ["allow_anonymous false", f"password_file {passwd}"]
        else:
            lines.append("allow_anonymous true")
        self.config = workdir / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")

    def start(self) -> Mosquitto:
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PillctlError(f"mosquitto did not start: {self.log_text()[-500:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise PillctlError("mosquitto did not open its port")

    def kill(self) -> None:
        """SIGKILL: the broker dies mid-stream, as a crashed server does."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SilentBroker:
    """A broker that stopped answering: it accepts connections on 127.0.0.1 and reads what
    comes, but never replies (no CONNACK), the worst outage for a publisher."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    @staticmethod
    def _drain(conn: socket.socket) -> None:
        with conn:
            while conn.recv(1024):
                pass

    def wait_connections(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.connections < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def close(self) -> None:
        self.server.close()
