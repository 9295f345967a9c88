"""The issue-17 disturbances: a schedule file with an override forged onto the flash while
the board is off, and overlapping button waits. Each ends with the board answering hello;
what they did is checked with the cycle (checks.check_caps, and Outcome.misroutes)."""

from __future__ import annotations

import hashlib
import json
import time
from base64 import b64encode

from dispenser.core import logrec, protocol
from dispenser.logstore import LogStore
from dispenser.schedstore import SCHEDULE_PATH
from pillctl.errors import PillctlError
from pillctl.schedule.hashing import with_hash
from soak.doses import DayPlan
from soak.injections import Outcome, _recovered
from soak.plan import Plan
from soak.rig import LOG_BUDGET, Rig

FORGED_IU = 10000  # D3 a day the forged file asks for: 2.5x the 4000 IU normal cap
OTHER_DEVICE = "0ther00000000002"
CONFIRM_S = 5  # the overlap's override wait (the commit's confirm_s)
HOLD_MS = 2500  # longer than the 2 s hold a confirmation needs
SHORT_MS = 300
TEST_FRAME_ID = 888_888
OUTCOME_WAIT_S = 20.0


def _edit(old: bytes, per: int, by: str) -> bytes:
    obj = json.loads(old)
    obj["comp"][0]["per"] = per
    obj["caps"]["vitd"] = max(per, obj["caps"]["vitd"])
    obj["ovr"] = [{"rule": "D3-UL", "by": by, "why": "soak"}]
    return with_hash(obj)


def forged_schedule(old: bytes) -> bytes:
    """`old` with FORGED_IU of D3 per pill under a D3-UL override nobody confirmed here."""
    return _edit(old, FORGED_IU, "Dr. Forged")


def override_variant(old: bytes) -> bytes:
    """`old` under a D3-UL override that lifts nothing: it still waits for a hold."""
    return _edit(old, json.loads(old)["comp"][0]["per"], "Dr. Soak")


def disturb_forged_override(rig: Rig, plan: Plan, out: Outcome) -> None:
    """With the board off, a schedule.json with an override is copied onto the flash, with
    plan.forge's fake confirmation: none, another device's OVERRIDE_BOUND record in the log,
    or a confirmed.txt naming it. The board boots it at the normal limits."""
    rig.disconnect()
    rig.cut()
    forged = forged_schedule(rig.schedule)
    sha = hashlib.sha256(forged).hexdigest()
    (rig.fs / SCHEDULE_PATH).write_bytes(forged)
    wall = int(rig.runner.clock.estimate() or 0)
    if plan.forge == "other_device":
        store = LogStore(str(rig.log_path()), budget=LOG_BUDGET)
        store.append(wall, logrec.OVERRIDE_BOUND, (bytes.fromhex(sha), OTHER_DEVICE.encode()))
    elif plan.forge == "confirmed_txt":
        (rig.fs / "confirmed.txt").write_text(f"{sha} {wall}")
    out.forged = forged
    started = time.monotonic()
    rig.power_on()
    _recovered(rig, out, "forged_override", started)
    _press_the_forged_dose(rig, out)


def _press_the_forged_dose(rig: Rig, out: Outcome) -> None:
    """Press where the forged D3 dose is due (the plan's meal is lunch): the board must give
    its verdict now, whatever the cut does later, so check_caps always sees one. A verdict
    that is no refusal for the cap is a dose over the cap's worth (FORGED_IU)."""
    now = int(rig.runner.clock.estimate() or 0)
    days = DayPlan(rig.schedule)
    due = [d for d in days.doses(now - now % 86400) if d.opens <= now <= d.closes]
    d3 = [d for d in due if d.hopper == 0]
    if not d3:
        out.over_cap.append("the forged override cycle found no D3 dose due to press")
        return
    since = rig.press()
    rig.wait_servos_idle(since, [d.hopper for d in due if d.hopper != 0])
    verdicts = [
        rec[3]
        for rec in LogStore(str(rig.log_path()), budget=LOG_BUDGET).records()
        if rec[2] in (logrec.DISPENSE, logrec.REFUSED) and rec[3][0] == d3[0].key
    ]
    if not verdicts or verdicts[-1] != (d3[0].key, logrec.REASON_CAP):
        out.over_cap.append(f"the forged D3 dose got {verdicts}, not a refusal for the cap")


def disturb_button_overlap(rig: Rig, plan: Plan, out: Outcome) -> None:
    """An override waits for its hold while a dispense.test waits for a press, in the dose
    window; the person presses as plan.overlap says (a hold, a short press then a hold, or
    a short press only). The arbiter gives every press to the confirmation: the test never
    moves a servo, the override is installed exactly when a hold came, and the dose press
    that follows dispenses the meal."""
    device = rig.connect()
    data = override_variant(rig.schedule)
    out.overlap = data
    try:
        _upload(device, data)
    except PillctlError as exc:
        out.misroutes.append(f"the override upload failed: {exc}")
        return
    since = rig.runner.trace.next_seq
    frame = protocol.encode(TEST_FRAME_ID, "dispense.test", {"hopper": plan.test_hopper})
    device._serial.write((frame + "\n").encode())  # its reply comes after its 10 s wait
    device._serial.flush()
    held = plan.overlap != "short"
    if plan.overlap != "hold":
        rig.press(SHORT_MS)
    if held:
        rig.press(HOLD_MS)
    installed = _confirmation_outcome(rig)
    if installed is None:
        out.misroutes.append("the override wait neither installed nor dropped its schedule")
    elif installed != held:
        out.misroutes.append(f"{plan.overlap}: the override installed={installed}")
    if rig.wait_hello(15.0) is None:  # answered once the test's wait is over
        out.dead = rig.silent("after the overlapping waits")
        return
    if rig.servo_moves(since):
        out.misroutes.append("a press during the override wait moved a servo (dispense.test)")
    _dose_press_dispenses(rig, out)


def _upload(device, data: bytes) -> None:
    sha = hashlib.sha256(data).hexdigest()
    device.request("schedule.put", {"op": "begin", "size": len(data), "sha256": sha})
    for off in range(0, len(data), 512):
        chunk = b64encode(data[off : off + 512]).decode()
        device.request("schedule.put", {"op": "data", "off": off, "b64": chunk})
    reply = device.request("schedule.put", {"op": "commit", "confirm_s": CONFIRM_S})
    if "confirm" not in reply:
        raise PillctlError("the override was installed without waiting for a hold")


def _confirmation_outcome(rig: Rig) -> bool | None:
    """True once the log says the override was installed (OVERRIDE), False once it says it
    was dropped (ERROR 30), None if neither within OUTCOME_WAIT_S."""
    deadline = time.monotonic() + OUTCOME_WAIT_S
    while time.monotonic() < deadline:
        for rec in LogStore(str(rig.log_path()), budget=LOG_BUDGET).records():
            if rec[2] == logrec.OVERRIDE:
                return True
            if rec[2] == logrec.ERROR and rec[3][0] == logrec.ERR_OVERRIDE_UNCONFIRMED:
                return False
        time.sleep(0.1)  # polls the board's own log on its flash
    return None


def _dose_press_dispenses(rig: Rig, out: Outcome) -> None:
    now = int(rig.runner.clock.estimate() or 0)
    days = DayPlan(rig.schedule)
    due = [d for d in days.doses(now - now % 86400) if d.opens <= now <= d.closes]
    since = rig.press()
    if due and not rig.wait_servos_idle(since, [d.hopper for d in due]):
        out.misroutes.append("the dose press after the overlapping waits did not dispense")


DISTURB = {
    "forged_override": disturb_forged_override,
    "button_overlap": disturb_button_overlap,
}
