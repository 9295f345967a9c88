"""Spacing from actual intake times on the sim board: calcium dispensed late holds a
ciprofloxacin reminder back until its label's 6 h have passed, and `status` says why.

The board runs bone-health (Europe/Berlin, UTC+1 in winter; calcium at breakfast, window
07:00-09:00) plus a ciprofloxacin reminder at 14:45 (window 14:45-15:45). The host would
refuse this schedule (CA-QUIN over breakfast's whole window): the device's own hold is what
protects a schedule that reached it some other way, or a calcium dose a hold pushed late.
"""

from __future__ import annotations

import json

import pytest
from conftest import run_pillctl
from simhelpers import (
    board_with,
    compiled,
    fence,
    log_records,
    press_and_settle,
    utc,
)

from dispenser.core import logrec
from pillctl.device import Device
from pillctl.schedule.hashing import with_hash

CIPRO_SLOT = logrec.id_key("t1445")
CIPRO = logrec.id_key("cipro")


def _with_ciprofloxacin() -> bytes:
    schedule = json.loads(compiled("bone-health"))
    schedule["slots"].insert(
        2, {"id": "t1445", "at": 885, "early": 0, "late": 60, "meal": 0, "fat": 0}
    )
    schedule["items"] = [
        {"id": "cipro", "slot": "t1445", "name": "Ciprofloxacin 500 mg",
         "med": "ciprofloxacin", "days": 127}
    ]  # fmt: skip
    schedule["spacing"] = [
        {"rule": "CA-QUIN", "item": "cipro", "nut": "ca", "gap": 120, "wait": 360}
    ]
    return with_hash(schedule)


@pytest.fixture
def board(tmp_path):
    with board_with(tmp_path / "board", _with_ciprofloxacin()) as b:
        yield b


def _reminded(board) -> bool:
    return any(r["kind"] == "remind" and r["slot"] == CIPRO_SLOT for r in log_records(board))


def test_calcium_taken_late_moves_the_ciprofloxacin_reminder_and_status_says_why(board):
    board.control.step_to(utc(7, 55))  # 08:55 Berlin: breakfast's calcium, late
    press_and_settle(board, [2])

    board.control.step_to(utc(13, 50))  # 14:50: the reminder's slot is open, the gap is not
    fence(board)
    assert not _reminded(board)
    with Device(board.port) as device:
        status = device.request("status")
    assert status["held"] == [["cipro", int(utc(13, 55)), "ca-breakfast", int(utc(7, 55))]]
    pending = {p[0]: p for p in status["pending"]}
    assert pending["cipro"][3:] == [int(utc(13, 55)), int(utc(14, 55))]

    shown = run_pillctl("status", "--port", board.port, env={"COLUMNS": "200"})
    assert shown.returncode == 0, shown.stderr
    assert "14:55 (held until 14:55: CA-QUIN, ca-breakfast taken at 08:55)" in shown.stdout

    press_and_settle(board, [])  # too early: refused, and the log says why
    refused = [r for r in log_records(board) if r["kind"] == "refused"]
    assert [(r["dose"], r["reason"]) for r in refused] == [(CIPRO, logrec.REASON_SPACING)]

    board.control.step_to(utc(13, 55))  # 14:55: 6 h after the calcium, the reminder starts
    fence(board)
    assert _reminded(board)
    press_and_settle(board, [])
    confirms = [r for r in log_records(board) if r["kind"] == "confirm"]
    assert [(r["item"], r["t"]) for r in confirms] == [(CIPRO, int(utc(13, 55)))]
