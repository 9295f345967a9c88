"""One small function per fault the campaign injects.

Disturbances happen to a running board in its dose window and end with the board answering
hello again. Cuts end with the power off; each returns the moment it aimed at, so the
harness knows which appends may have been in flight.
"""

from __future__ import annotations

import hashlib
import subprocess
import threading
import time
from base64 import b64encode
from dataclasses import dataclass, field
from pathlib import Path

from dispenser.core import protocol
from pillctl.device import Device
from pillctl.errors import PillctlError
from pillctl.executables import require_tool
from pillctl.history import DeviceHistory
from soak.plan import Plan
from soak.rig import HELLO_BOUND_S, Rig, Unsupported

SERVO_START_TIMEOUT_S = 10.0
MPREMOTE_TIMEOUT_S = 15
ARMED_WAIT_S = 3.0  # bounds the wait for an armed cut when the board's signals do not come
CUT_FRAME_ID = 999_999  # the commit frame an install cut follows


@dataclass
class Outcome:
    """What the injections of one cycle did, for the checks and the figures."""

    recoveries: dict[str, float] = field(default_factory=dict)  # disturbance -> seconds
    unsupported: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what went wrong outside the board
    dead: str | None = None  # why the board did not come back, if it did not
    aimed_seq: int = 0  # trace position of the aiming point
    aimed_log: tuple[str, int] = ("", 0)  # newest log segment and its size at that point
    pushed: bytes | None = None  # the schedule a push was cutting into
    pull: dict | None = None  # the `pillctl logs` history a cut interrupted
    forged: bytes | None = None  # a schedule file with an override copied onto the flash
    overlap: bytes | None = None  # the override schedule the overlapping waits pushed
    misroutes: list[str] = field(default_factory=list)  # presses that went astray
    over_cap: list[str] = field(default_factory=list)  # a forged dose the board did not refuse


# --- disturbances: each ends with the board answering hello ------------------------------
def _recovered(rig: Rig, out: Outcome, name: str, started: float) -> None:
    answered = rig.wait_hello()
    if answered is None:
        out.dead = rig.silent(f"within {HELLO_BOUND_S} s after {name}")
    else:
        out.recoveries[name] = time.monotonic() - started


def disturb_none(rig: Rig, plan: Plan, out: Outcome) -> None:
    return None


def disturb_task_fault(rig: Rig, plan: Plan, out: Outcome) -> None:
    """Arm a one-shot fault in a supervised task, then make that task check in."""
    try:
        rig.control(cmd="fault", task=plan.task)
    except Unsupported:
        out.unsupported.append("task_fault")
        return
    started = time.monotonic()
    if plan.task == "button":
        rig.press(30)  # shorter than the debounce: the task wakes, no dose press
    elif plan.task == "schedule":
        wall = rig.runner.clock.estimate() or 0
        # The clock's move wakes the schedule loop, which checks in and meets the fault: the
        # board resets before it can report the step done, so that report is not awaited.
        rig.runner.send(f"clock step {wall + 1}")
    # the serial task checks in with the hello below
    _recovered(rig, out, "task_fault", started)


def disturb_flash_error(rig: Rig, plan: Plan, out: Outcome) -> None:
    """The next flash writes fail: the cut's press meets them."""
    try:
        rig.control(cmd="fault", flash=plan.flash_errno, count=plan.flash_count)
    except Unsupported:
        out.unsupported.append("flash_error")


def disturb_ctrl_c(rig: Rig, plan: Plan, out: Outcome) -> None:
    """A stray Ctrl-C on the line: the app turned the keyboard interrupt off, so it is
    dropped and the app answers on (before issue 17: maintenance, then back by itself)."""
    device = rig.connect()
    started = time.monotonic()
    device._serial.write(b"\x03")
    device._serial.flush()
    _recovered(rig, out, "ctrl_c", started)


def _mpremote(rig: Rig, out: Outcome, name: str, *args: str) -> None:
    rig.disconnect()  # mpremote needs the port to itself
    argv = [require_tool("mpremote"), "connect", rig.runner.port, *args]
    argv += ["exec", "import os; print(os.listdir())"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=MPREMOTE_TIMEOUT_S)
        if done.returncode:
            out.notes.append(f"{name}: mpremote exited {done.returncode}")
    except subprocess.TimeoutExpired:
        # Not the board's failure as such; whether it dispenses afterwards is checked.
        out.notes.append(f"{name}: mpremote hung for {MPREMOTE_TIMEOUT_S} s")


def disturb_mpremote_resume(rig: Rig, plan: Plan, out: Outcome) -> None:
    """mpremote with `resume`: the locked app ignores its Ctrl-C and raw-REPL request, so
    mpremote fails and the app answers on. Recovery counts from mpremote's start."""
    started = time.monotonic()
    _mpremote(rig, out, "mpremote_resume", "resume")
    _recovered(rig, out, "mpremote_resume", started)


def disturb_mpremote_plain(rig: Rig, plan: Plan, out: Outcome) -> None:
    """mpremote without `resume`: it cannot reach the raw REPL of the locked app either
    (before issue 17: a soft reset in the raw REPL, then the watchdog)."""
    started = time.monotonic()
    _mpremote(rig, out, "mpremote_plain")
    _recovered(rig, out, "mpremote_plain", started)


DISTURB = {
    "none": disturb_none,
    "task_fault": disturb_task_fault,
    "flash_error": disturb_flash_error,
    "ctrl_c": disturb_ctrl_c,
    "mpremote_resume": disturb_mpremote_resume,
    "mpremote_plain": disturb_mpremote_plain,
}


# --- cuts: each ends with the power off ---------------------------------------------------
def _aim(rig: Rig, out: Outcome) -> None:
    out.aimed_seq = rig.runner.trace.next_seq
    out.aimed_log = newest_segment(rig.log_path())


def newest_segment(log_dir: Path) -> tuple[str, int]:
    names = sorted(p.name for p in log_dir.glob("*.log"))
    if not names:
        return "", 0
    return names[-1], (log_dir / names[-1]).stat().st_size


def _cut_after(rig: Rig, delay_ms: float) -> None:
    time.sleep(delay_ms / 1000)
    rig.cut()


def can_tear(rig: Rig) -> bool:
    """Whether this sim cuts in the middle of a write itself (an armed cut)."""
    return hasattr(rig.runner, "arm_cut")


def _arm(rig: Rig, plan: Plan, step: str, path: str) -> int:
    """Arm the sim to cut the power at the board's next matching write or rename."""
    since = rig.runner.trace.next_seq
    rig.control(cmd="power", on=False, at=step, path=path, seed=plan.arm_seed, timeout=0)
    return since


def _is_off(event) -> bool:
    return event.kind == "sim" and event.name == "power" and event.value == "off"


def _armed_cut_lands(rig: Rig, since: int, done) -> None:
    """Wait for an armed cut; once `done(rig, since, deadline)` says the board has finished
    what it was doing without a matching write (or after ARMED_WAIT_S), cut plainly."""
    deadline = time.monotonic() + ARMED_WAIT_S
    if not done(rig, since, deadline):
        rig.runner.trace.wait_for(_is_off, since, max(0.0, deadline - time.monotonic()))
    if rig.runner.trace.wait_for(_is_off, since, 0) is None:
        rig.cut()


def _fence(rig: Rig, since: int, deadline: float):
    """A clock step to the paused time: the board answers it on the trace pipe after every
    turn of its event loop that ran before it read the step. Returns the answer, the
    power-off event if the armed cut landed first, or None at the deadline."""
    wall = rig.runner.clock.estimate() or 0
    after = rig.runner.trace.next_seq
    rig.runner.send(f"clock step {wall}")
    return rig.runner.trace.wait_for(
        lambda e: (
            (e.kind == "step" and e.wall is not None and e.wall >= wall - 0.001)
            or (_is_off(e) and e.seq >= since)
        ),
        after,
        max(0.0, deadline - time.monotonic()),
    )


def _press_handled(rig: Rig, since: int, deadline: float) -> bool:
    """True once the board has finished with the press (or the cut landed): its `press`
    event came on the serial line, and then a fence found every servo released. The press's
    records are written, and the log rotated, in the same turns of the board's event loop
    as its servo moves start and end (controller.press; in the sim a pill breaks the beam
    long before the servo is back, so no turn waits for the drop sensor with the servos
    released), so after that nothing more of this press reaches the flash."""
    device = rig.device
    if device is None:
        return False
    pressed = False
    try:
        while not pressed:
            if rig.runner.trace.wait_for(_is_off, since, 0) is not None:
                return True
            if time.monotonic() >= deadline:
                return False
            event = device.read_event(min(0.1, deadline - time.monotonic()))
            pressed = event is not None and event.get("kind") == "press"
    except PillctlError:
        return False
    while time.monotonic() < deadline:
        answer = _fence(rig, since, deadline)
        if answer is None:
            return False
        if _is_off(answer):
            return True
        moving = _servos_moving(rig, since, answer.seq)
        if not moving:
            return True
        for name in moving:
            released = rig.runner.trace.wait_for(
                lambda e, n=name: (e.name == n and e.value == "0") or _is_off(e),
                answer.seq,
                max(0.0, deadline - time.monotonic()),
            )
            if released is None:
                return False
    return False


def _servos_moving(rig: Rig, since: int, upto: int) -> list[str]:
    """The servos whose last pulse width at trace position `upto` was not 0 (released)."""
    pulse = dict.fromkeys((f"servo.{h}" for h in range(3)), "0")
    for event in rig.runner.trace.since(0, 1_000_000):
        if event.seq > upto:
            break
        if event.kind == "out" and event.name in pulse:
            pulse[event.name] = event.value
    return [name for name, value in pulse.items() if value != "0"]


def _reply_came(rig: Rig, since: int, deadline: float) -> bool:
    """True once the board answered the commit frame (CUT_FRAME_ID), or the cut landed:
    the commit writes, renames and logs before it replies."""
    device = rig.device
    if device is None:
        return False
    try:
        while time.monotonic() < deadline:
            if rig.runner.trace.wait_for(_is_off, since, 0) is not None:
                return True
            frame = device._read_frame(min(deadline, time.monotonic() + 0.1))
            if frame is not None and frame[0] == CUT_FRAME_ID and frame[1] in ("ok", "err"):
                return True
    except PillctlError:
        return rig.runner.trace.wait_for(_is_off, since, 0) is not None
    return False


def cut_random(rig: Rig, plan: Plan, out: Outcome) -> None:
    """Any moment of a dose press."""
    _aim(rig, out)
    rig.press()
    _cut_after(rig, plan.delay_ms)


def cut_dispense(rig: Rig, plan: Plan, out: Outcome) -> None:
    """While a servo moves: aimed at the first servo pulse of the press."""
    _aim(rig, out)
    since = rig.press()
    rig.runner.trace.wait_for(
        lambda e: e.name.startswith("servo.") and e.value != "0", since, SERVO_START_TIMEOUT_S
    )
    _cut_after(rig, plan.delay_ms)


def cut_append(rig: Rig, plan: Plan, out: Outcome) -> None:
    """In the middle of one of the press's log appends (the sim's armed cut: the next log
    write after the plan's delay); with the plan's `fill` nearly zero this is the log's
    rotation. A sim without armed cuts is cut after the delay and the harness tears."""
    _aim(rig, out)
    rig.press()
    if not can_tear(rig):
        _cut_after(rig, plan.delay_ms)
        return
    time.sleep(plan.delay_ms / 1000)
    _armed_cut_lands(rig, _arm(rig, plan, "write", "log/"), _press_handled)


def cut_install(rig: Rig, plan: Plan, out: Outcome, new: bytes) -> None:
    """While a schedule push commits: the cut follows the commit frame."""
    device = rig.connect()
    out.pushed = new
    try:
        sha = hashlib.sha256(new).hexdigest()
        device.request("schedule.put", {"op": "begin", "size": len(new), "sha256": sha})
        for off in range(0, len(new), 512):
            chunk = b64encode(new[off : off + 512]).decode()
            device.request("schedule.put", {"op": "data", "off": off, "b64": chunk})
    except PillctlError:
        pass  # a flash error or a disturbance: the cut still comes
    _aim(rig, out)
    since = _arm(rig, plan, *plan.install_at) if can_tear(rig) else None
    frame = protocol.encode(CUT_FRAME_ID, "schedule.put", {"op": "commit"}) + "\n"
    device._serial.write(frame.encode())
    if since is None:
        _cut_after(rig, plan.delay_ms)
    else:
        _armed_cut_lands(rig, since, _reply_came)


def cut_logs(rig: Rig, plan: Plan, out: Outcome, data_dir: Path) -> None:
    """While `pillctl logs` pulls (its own pull(), on its own connection)."""
    from pillctl.commands.logs import pull

    rig.disconnect()
    history = DeviceHistory(rig.runner.device_id, data_dir)
    out.pull = {"history": history}

    def pulling() -> None:
        try:
            with Device(rig.runner.port, timeout=2.0) as device:
                pull(device, history)
        except PillctlError:
            pass  # the cut: the next pull resumes

    thread = threading.Thread(target=pulling, daemon=True)
    _aim(rig, out)
    thread.start()
    _cut_after(rig, plan.delay_ms)
    thread.join(30)
