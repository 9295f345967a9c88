"""The live sim view in the schedule's words: compartments by name, a legend of the LED
patterns, and what the last press did (read from the board's own log)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from rich.console import Console
from simhelpers import compiled

from pillctl.sim.control import SHORT_PRESS_MS
from pillctl.sim.firmware_image import install_source
from pillctl.sim.runner import SimOptions, SimRunner
from pillctl.sim.view import LastPress, render
from pillctl.sim.viewtext import board_names

LUNCH = datetime(2026, 11, 30, 11, 35, tzinfo=UTC).timestamp()  # 12:35 in Berlin


def _text(runner: SimRunner, last: LastPress) -> str:
    console = Console(record=True, width=200)
    console.print(render(runner, last))
    return console.export_text()


def test_the_view_names_compartments_explains_leds_and_says_what_a_press_did(tmp_path):
    fs = tmp_path / "fs"
    install_source(fs, schedule=compiled("bone-health"))
    runner = SimRunner(SimOptions(fs=fs, clock=LUNCH, speed=0))
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while runner.trace.outputs.get("led.0") != "1":  # booted, and showing lunch is due
            assert time.monotonic() < deadline, "the board never showed the due dose"
            time.sleep(0.1)
        last = LastPress()
        text = _text(runner, last)
        assert "d3 (vitamin D3)" in text and "ca (calcium carbonate)" in text
        assert "blinks once a second = a dose is due" in text
        assert "last press: none yet" in text
        last.pressed(runner, long=False)
        runner.press(SHORT_PRESS_MS)
        deadline = time.monotonic() + 20
        while "dropped k2" not in last.update(runner, board_names(fs)):
            assert time.monotonic() < deadline, f"the press left no record: {last.outcome}"
            time.sleep(0.2)  # polls the board's log for the press's records
        text = _text(runner, last)
        assert "last press: dropped d3 (vitamin D3) for d3-lunch; dropped k2" in text
        assert "servo d3" in text or "servo k2" in text  # trace lines by compartment
        assert "servo.0" not in text and "led.0" not in text
    finally:
        runner.stop()
