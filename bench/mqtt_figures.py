"""Figures of the Pico W's caregiver alerts on the simulated Pico W (board sim_w):

- press_to_servo_during_broker_outage_ms: press_to_servo_ms (bench/press_latency.py) while
  the configured broker accepts TCP connections and never answers, the worst outage for a
  publisher: every CONNECT waits out its timeout, again and again. Target: under 50 ms.
- app_heap_with_mqtt_kb: the heap in use (after a collection) of the whole flashed firmware
  (.mpy, as `pillctl flash --board sim_w` deploys it) with a live MQTT session, after a
  day of doses was published. The unix port is 64-bit: a Pico W needs less than this.
- missed_alert_latency_s: a simulated Pico W left running in real time (tests/realtime.py,
  never stepped) through a meal nobody takes: from the window's cut-off, on the board's
  clock, to the `dose_missed` event reaching a subscriber of a real Mosquitto. Target: under
  5 s.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from bench.app_heap import _flashed_flash
from bench.press_latency import bone_health_schedule, median_press_ms
from pillctl.device import open_device
from pillctl.mosquitto import Mosquitto, SilentBroker
from pillctl.mqttwatch import Watcher
from pillctl.sim.firmware_image import install_source
from pillctl.sim.process import SimProcess
from pillctl.transfer import push_schedule

START = "2026-11-30T00:00:00+00:00"


def _configure(port: str, broker_port: int) -> None:
    with open_device(port) as device:
        device.request("wifi.set", {"ssid": "bench", "psk": "bench-password"})
        device.request("mqtt.set", {"host": "127.0.0.1", "port": broker_port})


def press_to_servo_during_broker_outage_ms():
    hole = SilentBroker()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp) / "board"
            install_source(workdir / "fs", board="sim_w", schedule=bone_health_schedule())
            with SimProcess(workdir, "--board", "pico_w", "--time", START) as board:
                assert board.control is not None
                _configure(board.port, hole.port)
                if not hole.wait_connections(1, 30):  # then it waits on a silent broker
                    raise RuntimeError("the board never tried the broker")
                value = median_press_ms(board.control)
    finally:
        hole.close()
    return "press_to_servo_during_broker_outage_ms", value, "ms"


def app_heap_with_mqtt_kb():
    with tempfile.TemporaryDirectory() as tmp:
        template = _flashed_flash(Path(tmp), "sim_w")
        workdir = Path(tmp) / "run"
        shutil.copytree(template, workdir / "fs")
        with (
            Mosquitto(Path(tmp) / "broker") as broker,
            SimProcess(workdir, "--blank", "--time", START, "--speed", "0") as board,
        ):
            control = board.control
            assert control is not None
            with open_device(board.port, timeout=5) as device:
                push_schedule(device, bone_health_schedule())
                for hopper in range(3):
                    device.request("refill", {"hopper": hopper, "count": 30})
            _configure(board.port, broker.port)
            median_press_ms(control)  # a few days of lunches, each published
            deadline = time.monotonic() + 60
            while True:
                with open_device(board.port, timeout=5) as device:
                    status = device.request("status")
                net = status["net"]
                if net["mqtt"] == "connected" and net["acked"] == status["log"]["last"]:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the board did not publish its log: {net}")
                time.sleep(0.2)
    return "app_heap_with_mqtt_kb", round(status["mem"]["used"] / 1024, 1), "KB"


def missed_alert_latency_s():
    import realtime  # tests/realtime.py: the one meal lived in real time

    with (
        tempfile.TemporaryDirectory() as tmp,
        Mosquitto(Path(tmp) / "broker") as broker,
        Watcher(broker.port) as watcher,
        realtime.meal_board(Path(tmp) / "board", board="sim_w") as board,
    ):
        _configure(board.port, broker.port)
        assert board.control is not None
        # The board's clock against the host's: a cut-off on the board's clock is a
        # moment on the host's.
        before = time.time()
        board_wall = board.control.state()["clock"]["wall"]
        offset = (before + time.time()) / 2 - board_wall
        patience = realtime.CUT_OFF_S - board_wall + realtime.PATIENCE_S
        missed = watcher.wait_for(_is_missed_alert, patience)
        arrived = time.time()
        if missed is None:
            raise RuntimeError("no dose_missed reached the broker's subscriber")
    return "missed_alert_latency_s", round(arrived - (realtime.CUT_OFF_S + offset), 2), "s"


def _is_missed_alert(message) -> bool:
    return message.topic.endswith("/event") and message.json().get("event") == "dose_missed"


FIGURES = [press_to_servo_during_broker_outage_ms, app_heap_with_mqtt_kb, missed_alert_latency_s]
