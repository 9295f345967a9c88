"""`pillctl demo --mqtt`: the demo's board is a simulated Pico W that publishes to a local
Mosquitto, and the demo shows what a caregiver's Home Assistant receives from it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pillctl.device import open_device
from pillctl.errors import PillctlError
from pillctl.mosquitto import Mosquitto
from pillctl.mqttwatch import Watcher

DEMO_SSID = "demo-wifi"
DEMO_PASSWORD = "demo-wifi-password"  # noqa: S105 (the simulated access point's)
PUBLISH_TIMEOUT_S = 60


def _with_password(console: Console, args: list[str], password: str) -> None:
    """A pillctl command given a password on stdin (`--password-stdin`), as a script would:
    no prompt, so the demo runs without a terminal. Says so, without showing it."""
    args = [*args, "--password-stdin"]
    console.print(
        f"[dim]$ pillctl {' '.join(args)}   (the demo passes the simulated access point's "
        "password on stdin; at home, leave out --password-stdin and type yours at the "
        "prompt)[/]"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pillctl", *args], input=password + "\n", text=True,
        env=os.environ,
    )  # fmt: skip
    if result.returncode != 0:
        raise PillctlError(f"demo step `pillctl {args[0]} {args[1]}` failed")


@contextmanager
def caregiver_alerts(
    base: Path, port: str, console: Console, pillctl: Callable[..., None]
) -> Iterator[None]:
    """Start Mosquitto and a caregiver's subscriber, link the board to them; on the way out,
    wait until the board published its whole log, then show what arrived."""
    with Mosquitto(base / "broker") as broker, Watcher(broker.port) as watcher:
        console.print(f"  Mosquitto on 127.0.0.1:{broker.port}; a caregiver subscribes to it")
        _with_password(console, ["wifi", "set", DEMO_SSID, "--port", port], DEMO_PASSWORD)
        pillctl("mqtt", "set", f"127.0.0.1:{broker.port}", "--port", port)
        pillctl("mqtt", "test", "--port", port)
        yield
        _wait_published(port)
        show(console, watcher)


def _wait_published(port: str) -> None:
    deadline = time.monotonic() + PUBLISH_TIMEOUT_S
    while True:
        with open_device(port) as device:
            status = device.request("status")
        if status["net"]["acked"] >= status["log"]["last"]:
            return
        if time.monotonic() > deadline:
            raise PillctlError(f"the board did not publish its log: {status['net']}")
        time.sleep(0.2)


def show(console: Console, watcher: Watcher) -> None:
    events = Table(title="events a caregiver was sent (QoS 1, in log order)", title_justify="left")
    for column in ("seq", "time (UTC)", "event", "details"):
        events.add_column(column)
    for event in watcher.events():
        details = {k: v for k, v in event.items() if k not in ("seq", "t", "event")}
        shown = ", ".join(f"{k}={v}" for k, v in details.items())
        style = "bold red" if event["event"] in ("dose_missed", "jam", "low_stock") else None
        events.add_row(
            str(event["seq"]), (event["t"] or "clock unknown")[:16], event["event"], shown,
            style=style,
        )  # fmt: skip
    console.print(events)
    state = watcher.latest("/state")
    configs = [m.json() for m in watcher.messages if m.topic.startswith("homeassistant/")]
    if state is None:
        return
    values = state.json()
    entities = Table(title="Home Assistant: one device, its entities now", title_justify="left")
    for column in ("entity", "kind", "state"):
        entities.add_column(column)
    seen = set()
    for config in configs:
        if config["unique_id"] in seen:
            continue
        seen.add(config["unique_id"])
        kind = config.get("device_class") or config["default_entity_id"].split(".")[0]
        entities.add_row(config["name"], kind, _render(config["value_template"], values))
    console.print(entities)


def _render(template: str, state: dict) -> str:
    """The value a `{{ value_json.a['b'].c }}` template picks out of the state."""
    path = template.strip("{} ").removeprefix("value_json.")
    value: object = state
    for part in path.replace("['", ".").replace("']", "").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "unknown" if value is None else str(value)
