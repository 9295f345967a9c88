"""What the log's records say in words: each kind's name, its fields' names, and a record as
a flat dict (`pillctl logs`, the history's log.jsonl, `pillctl monitor`, the sim's views).

Host-only: the device writes and reads records by number (dispenser.core.logrec) and sends
each one it logs as its bytes (docs/protocol.md, "Events"); a Pico's RAM holds no names.
"""

from __future__ import annotations

import base64
from typing import Any

from dispenser.core import checkpoint, logrec

KIND_NAMES = (
    None, "boot", "clock_set", "schedule", "remind", "snooze", "dispense", "missed",
    "refused", "jam", "refill", "low", "confirm", "error", "checkpoint", "override",
    "override_pending", "selftest", "override_bound", "maintenance",
)  # fmt: skip

# Names of each kind's fields, in the order logrec decodes them.
FIELD_NAMES = (
    None, ("cause",), ("previous",), ("hash32",), ("slot", "level"), ("slot",),
    ("dose", "hopper_nut", "pills", "amount"), ("entry",), ("dose", "reason"),
    ("dose", "hopper", "delivered"), ("hopper", "count"), ("hopper", "count"), ("item",),
    ("code", "detail"),
    ("day", "stock", "flags", "totals", "confirms", "resolved", "reminded", "snoozed", "week",
     "schedule"),
    ("hash32", "signer"), ("hash32",), ("passed", "failed"), ("sha256", "device"), ("step", "who"),
)  # fmt: skip

# A MAINTENANCE record's step, by logrec.MAINT_*
MAINTENANCE_STEPS = {
    logrec.MAINT_ASKED: "asked",
    logrec.MAINT_OPENED: "opened",
    logrec.MAINT_REFUSED: "refused",
    logrec.MAINT_SAFE_MODE: "safe_mode",
}

# An ERROR record's code, by logrec.ERR_* (the Pico W's MQTT codes, 41-44, stay numbers:
# they are dispenser.net's, which the host does not import)
ERROR_NAMES = {
    logrec.ERR_SCHEDULE_REJECTED: "schedule_rejected",
    logrec.ERR_LOG_CORRUPT: "log_corrupt",
    logrec.ERR_TASK_FAILED: "task_failed",
    logrec.ERR_HALTED: "halted",
    logrec.ERR_OVERRIDE_UNCONFIRMED: "override_unconfirmed",
    logrec.ERR_OVERRIDE_REPLACED: "override_replaced",
    logrec.ERR_PRESS_TAKEN: "press_taken",
    logrec.ERR_OVERRIDE_UNBOUND: "override_unbound",
    logrec.ERR_CALIBRATION_REJECTED: "calibration_rejected",
}

RECORD_EVENT = "record"  # the device's event for a record it logged: {"kind", "b64"}


def signer_text(field: bytes) -> str:
    """A NUL-padded name field (OVERRIDE's signer, OVERRIDE_BOUND's device, MAINTENANCE's
    who) as text."""
    return bytes(field).rstrip(b"\x00").decode(errors="replace")


def as_dict(rec: tuple) -> dict[str, Any]:
    """A decoded record (seq, t, kind, fields) as a flat dict with named fields."""
    seq, t, kind = rec[0], rec[1], rec[2]
    fields: Any = rec[3]
    out: dict[str, Any] = {"seq": seq, "t": t}
    if kind == logrec.CHECKPOINT:  # logrec leaves its payload to dispenser.core.checkpoint
        try:
            fields = checkpoint.unpack(fields)
        except ValueError:  # a layout this pillctl does not read: kept raw, as unknown kinds
            return {**out, "kind": kind, "raw": bytes(fields).hex()}
    if 0 < kind < len(KIND_NAMES):
        out["kind"] = KIND_NAMES[kind]
        out.update(zip(FIELD_NAMES[kind], fields, strict=True))
        if kind == logrec.OVERRIDE:
            out["signer"] = signer_text(fields[1])
        elif kind == logrec.MAINTENANCE:
            out["who"] = signer_text(fields[1])
        elif kind == logrec.OVERRIDE_BOUND:
            out["sha256"] = bytes(fields[0]).hex()
            out["device"] = signer_text(fields[1])
    else:
        out["kind"] = kind
        out["raw"] = bytes(fields).hex()  # the payload of a kind this pillctl does not know
    return out


def as_event(record: dict[str, Any]) -> tuple[int, int, Any]:
    """A record as_dict named (or as stored: JSON lists for tuples) back into the engine's
    (t, kind, fields); kind 0 for a kind this pillctl does not know."""
    kind = KIND_NAMES.index(record["kind"]) if record["kind"] in KIND_NAMES else 0
    fields = tuple(record[name] for name in FIELD_NAMES[kind] or ())
    if kind == logrec.CHECKPOINT:
        return record["t"], kind, checkpoint.pack(fields)
    return record["t"], kind, fields


def named_event(event: dict[str, Any]) -> dict[str, Any]:
    """A device event as pillctl reads it: a logged record (sent as its bytes) as as_dict
    names it, any other event as it came. A record that does not decode stays as sent."""
    if not isinstance(event, dict) or event.get("kind") != RECORD_EVENT:
        return event
    try:
        data = base64.b64decode(event["b64"], validate=True)
    except (KeyError, TypeError, ValueError):  # binascii.Error is a ValueError
        return event
    rec = logrec.decode_at(data, 0, len(data))
    return event if rec is None else as_dict(rec)
