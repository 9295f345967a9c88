"""More of the device end to end on the sim board: schedule installs cut by power loss,
levothyroxine spacing from the actual confirmation, running out of stock, and the
button-confirmed test dispense. Real MicroPython, real pty, control channel and trace.

bone-health (Europe/Berlin, UTC+1 in winter): calcium (hopper 2) at breakfast 07:30, D3 + K2
(hoppers 0, 1) at lunch 12:30, calcium at dinner 18:30.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from base64 import b64encode

import pytest
from simhelpers import (
    SCHEDULES,
    board_with,
    compiled,
    kinds,
    log_records,
    press_and_settle,
    servo_moves,
    utc,
)

from dispenser import logrec, protocol
from pillctl.device import Device, DeviceError, open_device
from pillctl.errors import PillctlError
from pillctl.schedule.hashing import embedded_hash, with_hash
from pillctl.transfer import PUSH_CHUNK, fetch_schedule, push_schedule

BONE = compiled("bone-health")
FUSION = compiled("spinal-fusion-regimen")
BONE_SHA, FUSION_SHA = embedded_hash(BONE), embedded_hash(FUSION)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wait_hello(device: Device, timeout: float = 20) -> dict:
    """hello, retried until the (re)booting board answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return device.request("hello", timeout=1)
        except PillctlError:
            if time.monotonic() > deadline:
                raise


def installed_sha(device: Device) -> str:
    return device.request("status")["schedule"]["sha256"]


def begin_upload(device: Device, data: bytes, chunks: int, sha: str | None = None) -> None:
    """schedule.put begin and the first `chunks` data chunks of `data`."""
    device.request(
        "schedule.put", {"op": "begin", "size": len(data), "sha256": sha or sha256_hex(data)}
    )
    for off in range(0, min(len(data), chunks * PUSH_CHUNK), PUSH_CHUNK):
        chunk = b64encode(data[off : off + PUSH_CHUNK]).decode()
        device.request("schedule.put", {"op": "data", "off": off, "b64": chunk})


def power_cycle(board, device: Device) -> dict:
    board.control.power(False)
    board.control.power(True)
    return wait_hello(device)


@pytest.fixture
def bone_board(tmp_path):
    with board_with(tmp_path / "board", BONE) as board:
        yield board


# --- a. schedule installs and power cuts -------------------------------------------------


def test_power_cut_mid_upload_keeps_the_old_schedule_then_a_full_push_installs(bone_board):
    assert len(FUSION) > 2 * PUSH_CHUNK  # the cut really falls between chunks
    with open_device(bone_board.port) as device:
        assert installed_sha(device) == BONE_SHA
        begin_upload(device, FUSION, chunks=2)
        assert power_cycle(bone_board, device)["reset"] == "power"
        assert installed_sha(device) == BONE_SHA
        assert fetch_schedule(device) == BONE  # the file itself, byte for byte
        assert sorted(p.name for p in bone_board.fs.glob("schedule*")) == ["schedule.json"]
        # The half upload died with the power: a commit now has nothing to install.
        with pytest.raises(DeviceError) as refused:
            device.request("schedule.put", {"op": "commit"})
        assert refused.value.code == "refused"
        assert installed_sha(device) == BONE_SHA

        assert push_schedule(device, FUSION)["sha256"] == FUSION_SHA
        assert installed_sha(device) == FUSION_SHA
        assert fetch_schedule(device) == FUSION
    schedule_records = [r for r in log_records(bone_board) if r["kind"] == "schedule"]
    # The first boot logged the schedule it found on the flash (issue 8 item 6); the cut
    # upload logged nothing; the full push logged FUSION.
    hashes = [int(sha[:8], 16) for sha in (BONE_SHA, FUSION_SHA)]
    assert [r["hash32"] for r in schedule_records] == hashes


@pytest.mark.parametrize("delay_s", [0.0, 0.02])
def test_power_cut_racing_the_commit_leaves_exactly_one_whole_schedule(bone_board, delay_s):
    with open_device(bone_board.port) as device:
        begin_upload(device, FUSION, chunks=len(FUSION) // PUSH_CHUNK + 1)
        # The commit goes out raw: the power is cut before (or while) the board answers.
        device._serial.write((_frame(99, "schedule.put", {"op": "commit"}) + "\n").encode())
        device._serial.flush()
        time.sleep(delay_s)
        bone_board.control.power(False)
        bone_board.control.power(True)
        hello = wait_hello(device)
        assert hello["reset"] == "power"
        sha = installed_sha(device)
        assert sha in (BONE_SHA, FUSION_SHA)
        assert fetch_schedule(device) == {BONE_SHA: BONE, FUSION_SHA: FUSION}[sha]
        # Whichever won, the board still takes a full push afterwards, and no temp is left.
        assert push_schedule(device, FUSION)["sha256"] == FUSION_SHA
    assert sorted(p.name for p in bone_board.fs.glob("schedule*")) == ["schedule.json"]


def _frame(frame_id: int, verb: str, args: dict) -> str:
    return protocol.encode(frame_id, verb, args)


def _tampered_body() -> bytes:
    """FUSION with one byte of its body changed but its embedded hash kept."""
    bad = FUSION.replace(b'"name":"spinal-fusion"', b'"name":"spinal-fusioN"', 1)
    assert bad != FUSION
    return bad


def _over_the_absolute_cap() -> bytes:
    """FUSION with a correct hash but a calcium cap above the firmware's 2500 mg, no override."""
    schedule = json.loads(FUSION)
    schedule["caps"]["ca"] = 3000
    assert not schedule["ovr"]
    return with_hash(schedule)


@pytest.mark.parametrize(
    "data, sha",
    [
        pytest.param(FUSION, "0" * 64, id="wrong-upload-sha256"),
        pytest.param(_tampered_body(), None, id="wrong-embedded-hash"),
        pytest.param(_over_the_absolute_cap(), None, id="cap-over-absolute-limit"),
    ],
)
def test_corrupt_or_unsafe_upload_is_refused_and_the_old_schedule_stays(bone_board, data, sha):
    with open_device(bone_board.port) as device:
        begin_upload(device, data, chunks=len(data) // PUSH_CHUNK + 1, sha=sha)
        with pytest.raises(DeviceError) as refused:
            device.request("schedule.put", {"op": "commit"}, timeout=10)
        assert refused.value.code == "refused"
        assert installed_sha(device) == BONE_SHA
        assert fetch_schedule(device) == BONE
    records = log_records(bone_board)
    # only the first boot's record of the schedule it found installed (issue 8 item 6)
    schedules = [r["hash32"] for r in records if r["kind"] == "schedule"]
    assert schedules == [int(BONE_SHA[:8], 16)]
    rejected = [r for r in records if r["kind"] == "error"]
    # A schedule that fails the device's own check is logged; a damaged upload is not.
    assert len(rejected) == (0 if sha else 1)
    if rejected:
        assert rejected[0]["code"] == logrec.ERR_SCHEDULE_REJECTED


# --- b. levothyroxine confirmed late pushes the calcium back -----------------------------


def test_late_levothyroxine_holds_lunch_calcium_until_the_gap_after_the_confirmation(tmp_path):
    # The shipped schedule puts levothyroxine at 06:30 (window to 07:15) and lunch at 12:30,
    # so even the latest confirmation (+240 min = 11:15) cannot reach lunch. Moved to 08:00
    # (still 4.5 h before lunch, so the host's own spacing check passes), a confirmation late
    # in its window (08:40) puts lunch's 12:00-14:30 window inside the gap.
    # Breakfast (07:30-09:00, carrying nothing) goes, or its window would overlap.
    source = (SCHEDULES / "levothyroxine-morning.toml").read_text()
    breakfast = source.index('[[meals]]\nname = "breakfast"')
    source = source[:breakfast] + source[source.index("[[meals]]", breakfast + 1) :]
    assert source.count('at = "06:30"') == 1
    toml = tmp_path / "levo-late.toml"
    toml.write_text(source.replace('at = "06:30"', 'at = "08:00"'))
    data = compiled(toml)
    sched = json.loads(data)
    assert sched["tz"] == "Europe/London"  # UTC+0 in winter: local minutes are UTC minutes
    (levo,) = sched["items"]
    (spacing,) = sched["spacing"]
    assert spacing["item"] == "levo" and spacing["nut"] == "ca"
    slots = {s["id"]: s for s in sched["slots"]}
    levo_slot, lunch = slots[levo["slot"]], slots["lunch"]
    ca_doses = [d["id"] for d in sched["doses"] if d["slot"] == "lunch" and d["comp"] == "ca"]
    assert ca_doses == ["ca-lunch"]

    confirm_min = levo_slot["at"] + levo_slot["late"] - 5  # late in its window
    hold_min = confirm_min + spacing["gap"]
    assert lunch["at"] - lunch["early"] < lunch["at"] < hold_min  # lunch falls inside the gap

    with board_with(tmp_path / "board", data) as board:
        board.control.step_to(utc(0, confirm_min))
        since = press_and_settle(board)
        assert servo_moves(board, since) == []
        assert kinds(log_records(board))[-1] == "confirm"

        # Lunch time: D3 and K2 drop, calcium is held back, not skipped.
        lunch_seq = board.control.state()["trace_next"]
        board.control.step_to(utc(0, lunch["at"]))
        assert board.control.wait_for("led.0", lunch_seq, value=1, timeout=5) is not None
        since = press_and_settle(board)
        assert sorted(servo_moves(board, since)) == ["servo.0", "servo.1"]
        ca_key = logrec.id_key("ca-lunch")
        refused = [r for r in log_records(board) if r["kind"] == "refused"]
        assert [(r["dose"], r["reason"]) for r in refused] == [(ca_key, logrec.REASON_SPACING)]
        with open_device(board.port) as device:
            pending = {p[0]: p for p in device.request("status")["pending"]}
        assert pending["ca-lunch"][3] == utc(0, hold_min)  # reminded again when the gap ends
        assert pending["ca-lunch"][4] > utc(0, hold_min)  # and its window stretched past it
        lit = [
            e for e in board.control.trace(lunch_seq) if e["name"] == "led.2" and e["value"] == "1"
        ]
        assert lit == [], "calcium was shown due inside the gap"

        # The gap ends: calcium is reminded (its LED on), and a press drops it.
        since = board.control.state()["trace_next"]
        board.control.step_to(utc(0, hold_min) + 1)
        assert board.control.wait_for("led.2", since, value=1, timeout=5) is not None
        with open_device(board.port) as device:
            status = device.request("status")
        assert status["state"] == "due"
        assert [p[0] for p in status["pending"]] == ["ca-lunch", "ca-dinner"]
        since = press_and_settle(board)
        assert servo_moves(board, since) == ["servo.2"]

    records = log_records(board)
    dispensed = [r["dose"] for r in records if r["kind"] == "dispense"]
    assert dispensed.count(ca_key) == 1
    assert ca_key not in [r["entry"] for r in records if r["kind"] == "missed"]
    # The renewed reminder is not a record of its own: REMIND is logged per slot and level,
    # and lunch's level 1 was logged at 12:30 already (the LED and status show it).


# --- c. stock runs low, then out ---------------------------------------------------------


def test_stock_runs_low_then_empty_refuses_that_hopper_only(tmp_path):
    # bone-health with the calcium hopper's low threshold at 1, so that a few meals run
    # it from "just above low" to empty.
    source = (SCHEDULES / "bone-health.toml").read_text()
    marker = "capacity = 120\nlow_stock = 14"
    assert source.count(marker) == 1
    toml = tmp_path / "bone-low.toml"
    toml.write_text(source.replace(marker, "capacity = 120\nlow_stock = 1"))
    data = compiled(toml)
    ca_key = logrec.id_key("ca-breakfast")

    with board_with(tmp_path / "board", data) as board:
        with open_device(board.port) as device:
            assert device.request("refill", {"hopper": 2, "count": 2}) == {"hopper": 2, "count": 2}
            ca = device.request("status")["compartments"][2]
            assert (ca["stock"], ca["low"]) == (2, False)

        board.control.step_to(utc(6, 35))  # breakfast: 2 -> 1, at the threshold
        since = press_and_settle(board)
        assert servo_moves(board, since) == ["servo.2"]
        lows = [r for r in log_records(board) if r["kind"] == "low"]
        assert [(r["hopper"], r["count"]) for r in lows] == [(2, 1)]

        board.control.step_to(utc(9, 0))  # 10:00, nothing due: the status LED shows low stock
        with open_device(board.port) as device:
            status = device.request("status")
        assert status["state"] == "low"
        assert [c["low"] for c in status["compartments"]] == [False, False, True]
        on, off = _next_blink(board)
        assert 1300 <= off["ticks_ms"] - on["ticks_ms"] <= 1800  # LOW_STOCK: 1.5 s on

        board.control.step_to(utc(17, 40))  # dinner: 1 -> 0
        since = press_and_settle(board)
        assert servo_moves(board, since) == ["servo.2"]

        board.control.step_to(utc(6, 35, days=1))  # next breakfast: the hopper is empty
        since = press_and_settle(board)
        assert servo_moves(board, since) == []
        refused = [r for r in log_records(board) if r["kind"] == "refused"]
        assert [(r["dose"], r["reason"]) for r in refused] == [(ca_key, logrec.REASON_EMPTY)]

        board.control.step_to(utc(11, 35, days=1))  # lunch: the other hoppers still dispense
        since = press_and_settle(board)
        assert sorted(servo_moves(board, since)) == ["servo.0", "servo.1"]

    records = log_records(board)
    assert sum(1 for r in records if r["kind"] == "dispense" and r["hopper_nut"] & 15 == 2) == 2
    assert kinds(records).count("low") == 1


def _next_blink(board) -> tuple[dict, dict]:
    """The next complete on-then-off of the status LED."""
    since = board.control.state()["trace_next"]
    on = board.control.wait_for("led.status", since, value=1, timeout=5)
    assert on is not None
    off = board.control.wait_for("led.status", on["seq"] + 1, value=0, timeout=5)
    assert off is not None
    return on, off


# --- d. the test dispense needs a person at the button -----------------------------------


def test_dispense_test_needs_the_button_held_and_does_not_dispense_a_due_dose(bone_board):
    board = bone_board
    board.control.step_to(utc(11, 35))  # lunch: D3 and K2 are due, so a dose press would drop
    with open_device(board.port) as device:
        since = board.control.state()["trace_next"]
        started = time.monotonic()
        with pytest.raises(DeviceError) as refused:
            device.request("dispense.test", {"hopper": 0}, timeout=15)
        assert refused.value.code == "refused"
        assert 9.5 <= time.monotonic() - started <= 13
        assert servo_moves(board, since) == []

        before = log_records(board)
        presser = threading.Timer(0.3, board.control.press, kwargs={"ms": 1500})
        presser.start()
        reply = device.request("dispense.test", {"hopper": 0}, timeout=15)
        presser.join()
        assert reply == {"hopper": 0, "delivered": 1}
        time.sleep(0.5)  # the button loop sees the release after the reply
        assert servo_moves(board, since) == ["servo.0"]
        assert log_records(board) == before  # the hold was no dose press
        assert {p[0] for p in device.request("status")["pending"]} >= {"d3-lunch", "k2-lunch"}

    since = press_and_settle(board)  # the next real press still dispenses
    assert sorted(servo_moves(board, since)) == ["servo.0", "servo.1"]
