"""Helpers for the MQTT tests: a simulated Pico W with the bone-health schedule, a real
Mosquitto on 127.0.0.1, the CLI to configure the link, and Home Assistant's discovery
schema as its documentation and `homeassistant/components/mqtt/schemas.py` give it."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import run_pillctl

from dispenser.logstore import LogStore
from dispenser.net.messages import EVENT_NAMES
from pillctl.device import open_device
from pillctl.mosquitto import find_mosquitto
from pillctl.sim.firmware_image import install_source
from pillctl.sim.process import SimProcess

WIFI_PASSWORD = "correct-horse-battery-staple"  # noqa: S105 (a test secret)

needs_mosquitto = pytest.mark.skipif(
    find_mosquitto() is None, reason="Debian mosquitto not installed (make setup-mqtt)"
)


@contextmanager
def pico_w(workdir: Path, schedule: bytes | None, time_iso: str | None = None, *args: str):
    """A simulated Pico W with `schedule`, its clock paused at `time_iso` (None: unknown);
    `args` go to `pillctl sim` as they are."""
    install_source(workdir / "fs", board="sim_w", schedule=schedule)
    clock = ("--time", time_iso, "--speed", "0") if time_iso else ()
    with SimProcess(workdir, "--board", "pico_w", *clock, *args) as board:
        yield board


def pillctl(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return run_pillctl(*args, timeout=90, stdin=stdin)


def configure(board, broker_port: int, user: str | None = None, password: str = "") -> None:
    """`pillctl wifi set` and `pillctl mqtt set`, passwords on stdin (`--password-stdin`)."""
    done = pillctl(
        "wifi", "set", "home-net", "--password-stdin", "--port", board.port,
        stdin=WIFI_PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert WIFI_PASSWORD not in done.stdout + done.stderr
    extra = ("--user", user, "--password-stdin") if user else ()
    done = pillctl(
        "mqtt", "set", f"127.0.0.1:{broker_port}", *extra, "--port", board.port,
        stdin=password + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def status(board) -> dict:
    with open_device(board.port) as device:
        return device.request("status")


def wait_status(board, predicate, timeout: float = 60) -> dict:
    """Poll `status` (a real request each time) until `predicate` accepts it."""
    deadline = time.monotonic() + timeout
    while True:
        reply = status(board)
        if predicate(reply):
            return reply
        assert time.monotonic() < deadline, f"status never matched: {reply.get('net')}"
        time.sleep(0.2)


def wait_published(board, timeout: float = 60) -> dict:
    """Until the broker acknowledged every record in the log."""
    return wait_status(board, lambda s: s["net"]["acked"] == s["log"]["last"], timeout)


def expected_events(board) -> list[tuple[int, str]]:
    """(seq, event name) of every log record that is published, from the board's flash."""
    records = LogStore(str(board.fs / "log")).records()
    return [(r[0], EVENT_NAMES[r[2]]) for r in records if r[2] in EVENT_NAMES]


# --- Home Assistant's MQTT discovery schema ------------------------------------------------
DISCOVERY_TOPIC = re.compile(
    r"^homeassistant/(sensor|binary_sensor)/[a-zA-Z0-9_-]+/[a-zA-Z0-9_-]+/config$"
)
COMMON_KEYS = {
    "name", "unique_id", "state_topic", "value_template", "availability_topic",
    "payload_available", "payload_not_available", "device", "origin", "device_class",
    "default_entity_id", "qos", "json_attributes_topic", "json_attributes_template",
    "entity_category", "icon", "expire_after", "force_update", "enabled_by_default",
}  # fmt: skip
SENSOR_KEYS = COMMON_KEYS | {"unit_of_measurement", "state_class", "suggested_display_precision"}
BINARY_SENSOR_KEYS = COMMON_KEYS | {"payload_on", "payload_off", "off_delay"}
DEVICE_KEYS = {
    "identifiers", "connections", "manufacturer", "model", "name", "hw_version",
    "serial_number", "sw_version", "via_device", "suggested_area", "configuration_url",
}  # fmt: skip
SENSOR_CLASSES = {"timestamp", "date", "duration", "enum"}  # the ones that fit text states
BINARY_SENSOR_CLASSES = {"problem", "connectivity", "running"}
TEMPLATE = re.compile(r"^\{\{ value_json\.(\w+)((?:\['[\w-]+'\])?)(?:\.(\w+))? \}\}$")


def check_discovery(topic: str, config: dict, state: dict) -> str:
    """Raise AssertionError where `config` breaks HA's discovery schema; returns the value
    its template renders from `state` (the retained state payload), as HA would."""
    match = DISCOVERY_TOPIC.match(topic)
    assert match, topic
    component = match.group(1)
    allowed = SENSOR_KEYS if component == "sensor" else BINARY_SENSOR_KEYS
    assert set(config) <= allowed, set(config) - allowed
    for key in ("name", "unique_id", "state_topic", "device", "value_template"):
        assert key in config, (topic, key)
    device = config["device"]
    assert set(device) <= DEVICE_KEYS
    assert device["identifiers"] and all(isinstance(i, str) for i in device["identifiers"])
    assert isinstance(config["origin"]["name"], str)  # origin: name is required
    assert "+" not in config["state_topic"] and "#" not in config["state_topic"]
    classes = SENSOR_CLASSES if component == "sensor" else BINARY_SENSOR_CLASSES
    if "device_class" in config:
        assert config["device_class"] in classes, config["device_class"]
    assert config["default_entity_id"].startswith(component + ".")
    template = TEMPLATE.match(config["value_template"])
    assert template, config["value_template"]
    value = state[template.group(1)]
    if template.group(2):
        value = value[template.group(2)[2:-2]]
    if template.group(3):
        value = value[template.group(3)]
    if component == "binary_sensor":
        assert value in (config["payload_on"], config["payload_off"])
    return "None" if value is None else str(value)


needs_openssl = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="openssl not installed (make setup-mqtt)"
)


def make_ca(workdir: Path, name: str) -> tuple[Path, Path]:
    """A throw-away certificate authority: (certificate PEM, key)."""
    cert, key = workdir / f"{name}.crt", workdir / f"{name}.key"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
             "-days", "30", "-subj", f"/CN={name}")  # fmt: skip
    return cert, key


def make_server_cert(workdir: Path, ca: tuple[Path, Path]) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by `ca`: (certificate PEM, key)."""
    cert, key, csr = workdir / "srv.crt", workdir / "srv.key", workdir / "srv.csr"
    ext = workdir / "srv.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
             "-subj", "/CN=127.0.0.1")  # fmt: skip
    _openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
             "-out", cert, "-days", "30", "-extfile", ext)  # fmt: skip
    return cert, key


def _openssl(*args) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)
