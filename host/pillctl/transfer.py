"""Bulk transfers over the protocol: pushing a schedule, pulling the log."""

from __future__ import annotations

import hashlib
import time
from base64 import b64decode, b64encode
from collections.abc import Callable

from dispenser.core import logrec
from pillctl.device import Device, DeviceError
from pillctl.errors import PillctlError
from pillctl.schedule.hashing import embedded_hash
from pillctl.schedule.refusal import explain_reply

# Raw bytes per schedule.put frame: base64 makes 684 characters, well inside the device's
# 1024-byte line limit with the frame's own overhead.
PUSH_CHUNK = 512
LOG_CHUNK = 2048  # the device's largest log.read reply

Progress = Callable[[int, int], None]  # (done, total)
CONFIRM_POLL_S = 0.5  # how often push asks whether the hold came


def push_schedule(
    device: Device, data: bytes, progress: Progress | None = None, confirm_s: int | None = None
) -> dict:
    """Upload a compiled schedule; the device checks and installs it atomically.

    Returns the device's reply ({"sha256", "name"}, and "confirm" when the schedule overrides
    a rule and waits for a button hold: see ``await_confirmation``); raises if the hash it
    reports is not the one the host compiled. ``confirm_s`` shortens the device's wait for
    the hold (at most its 60 s).
    """
    device.request(
        "schedule.put",
        {"op": "begin", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
    )
    try:
        for off in range(0, len(data), PUSH_CHUNK):
            chunk = b64encode(data[off : off + PUSH_CHUNK]).decode()
            device.request("schedule.put", {"op": "data", "off": off, "b64": chunk})
            if progress:
                progress(min(off + PUSH_CHUNK, len(data)), len(data))
        commit = {"op": "commit"} | ({"confirm_s": confirm_s} if confirm_s else {})
        reply = device.request("schedule.put", commit, timeout=10)
    except DeviceError as exc:
        abort_quietly(device)
        if exc.refusal is None:
            raise
        # the device's check refused it: worded from its numbers and what was pushed
        why = explain_reply(exc.refusal, data)
        raise DeviceError(exc.verb, exc.code, f"schedule rejected: {why}", exc.refusal) from exc
    except PillctlError:
        abort_quietly(device)
        raise
    expected = embedded_hash(data)
    if reply.get("sha256") != expected:
        raise PillctlError(
            f"device reports schedule {reply.get('sha256')}, expected {expected}; push again"
        )
    return reply


def await_confirmation(device: Device, confirm: dict, waiting: Callable[[dict], None]) -> None:
    """Wait while the device holds an override schedule for its button hold. ``waiting``
    gets the device's "confirm" status ({"left", "rules", "signers", ...}) on every poll.
    ``confirm`` is the commit reply's "confirm" member. Returns once it is installed;
    raises PillctlError (one line) when the wait ended without the hold: the old schedule
    stays."""
    sha = confirm["sha256"]
    while True:
        waiting(confirm)
        time.sleep(CONFIRM_POLL_S)  # the device decides; this only paces the questions
        status = device.request("status")
        if (status.get("confirm") or {}).get("sha256") == sha:
            confirm = status["confirm"]
            continue
        if (status.get("schedule") or {}).get("sha256") == sha:
            return
        raise PillctlError(
            f"not installed: nobody held the dispenser's button for {confirm['hold_ms'] / 1000:g}"
            " s in time, so the old schedule stays; push again and hold the button"
        )


def abort_quietly(device: Device) -> None:
    try:
        device.request("schedule.put", {"op": "abort"}, timeout=1)
    except PillctlError:
        pass  # the device drops an unfinished upload on its own at the next begin


def fetch_schedule(device: Device) -> bytes:
    """The installed compiled schedule, as the device holds it."""
    data = b""
    while True:
        reply = device.request("schedule.get", {"off": len(data)})
        data += b64decode(reply["b64"])
        if len(data) >= reply["size"] or not reply["b64"]:
            return data


def read_log_batches(device: Device, since: int, progress: Progress | None = None):
    """Yield lists of decoded records (seq, t, kind, fields) after `since`, batch by batch.

    Each batch can be stored before the next is asked for, so a pulled cable loses nothing
    already received and the next pull resumes after the last stored record.
    """
    info = device.request("log.info")
    total = max(0, info["last"] - since)
    done = 0
    while True:
        reply = device.request("log.read", {"since": since, "max": LOG_CHUNK})
        raw = b64decode(reply["b64"])
        records = [record for _, record in logrec.scan(raw)]
        if records:
            yield records
            since = records[-1][0]
            done = min(total, done + len(records))
            if progress:
                progress(done, total)
        if not reply["more"] or not records:
            return
