"""`pillctl status` shows a waiting override schedule, and who signed the installed one's
overrides and when a person confirmed them on the device."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from pillctl.commands.status import render
from pillctl.schedule import compile_file

REPO = Path(__file__).resolve().parent.parent

STATUS = {
    "board": "sim",
    "id": "sim-1",
    "fw": "x",
    "proto": 1,
    "t": 1796000000,
    "clock": "set",
    "reset": "power",
    "log": {},
    "confirm": {"sha256": "ab" * 32, "rules": ["MK4-MAX"], "signers": ["Dr. B"],
                "hold_ms": 2000, "left": 41},
    "schedule": {
        "name": "repletion",
        "sha256": "cd" * 32,
        "tz": "Europe",  # a folder of the tz database, as a hand-made file may say
        "overrides": {"rules": ["D3-UL"], "signers": ["Dr. Ada Lovelace"],
                      "confirmed": 1796000000},
    },
    "pending": [],
    "compartments": [],
}  # fmt: skip


def test_status_names_the_signer_the_confirmation_and_a_waiting_override():
    console = Console(record=True, width=200)
    # The compiled schedule as `pillctl status` reads it back from the device, its zone
    # replaced as in STATUS.
    compiled = json.loads(compile_file(REPO / "schedules" / "bone-health.toml"))
    compiled["tz"] = "Europe"
    console.print(render("/dev/ttyACM0", STATUS, compiled, None))
    text = console.export_text()
    assert "D3-UL signed by Dr. Ada Lovelace, confirmed on the device 2026-" in text
    assert "overriding MK4-MAX (signed by Dr. B) needs a 2 s button hold within 41 s" in text


def test_status_says_an_unconfirmed_override_runs_at_normal_limits():
    console = Console(record=True, width=300)
    compiled = json.loads(compile_file(REPO / "schedules" / "bone-health.toml"))
    compiled["tz"] = "Europe"
    status = json.loads(json.dumps(STATUS))
    del status["confirm"]
    status["schedule"]["overrides"].update(confirmed=None, applied=False)
    console.print(render("/dev/ttyACM0", status, compiled, None))
    text = " ".join(console.export_text().split())
    assert "D3-UL NOT applied" in text
    assert "normal limit" in text
    assert "confirmed on the device" not in text
