"""Log record encoding: compact binary, one CRC per record, shared by device and host.

Layout (little-endian), documented in docs/log-format.md:

    u8 len | u32 seq | u32 t (UTC epoch s) | u8 kind | payload | u32 crc32(len..payload)

`len` counts the whole record, so a reader can skip kinds it does not know, and a torn or
corrupt record fails its length or CRC check and is skipped one byte at a time until the
next valid record (resync), never misread.

Kinds and fields are numbers here: their names, for people, are the host's
(pillctl.logfields), so the device's RAM holds none.
"""

import struct

from dispenser.compat import const
from dispenser.core.crc import crc32

_HEADER_SIZE = const(10)
_CRC_SIZE = const(4)
OVERHEAD = const(14)
MAX_RECORD = const(255)
_CRC_RESIDUE = const(0x2144DF1C)  # CRC-32 of any bytes followed by their own CRC-32 (LE)

BOOT = const(1)  # (reset cause,)
CLOCK_SET = const(2)  # (previous UTC time, 0 = was unknown)
SCHEDULE = const(3)  # (first 32 bits of the schedule's sha256,)
REMIND = const(4)  # (slot key, level)  logged when a reminder starts and at its top level
SNOOZE = const(5)  # (slot key,)
DISPENSE = const(6)  # (dose key, hopper | nutrient << 4, pills, amount); written BEFORE the servo
MISSED = const(7)  # (dose or item key,)
REFUSED = const(8)  # (dose key, reason)
JAM = const(9)  # (dose key, hopper, pills delivered)
REFILL = const(10)  # (hopper, count)
LOW = const(11)  # (hopper, count)
CONFIRM = const(12)  # (item key,)  reminder-only item confirmed by a press
ERROR = const(13)  # (code, detail)
CHECKPOINT = const(14)  # engine state summary, first record of every log segment; its
# payload is bytes here, laid out and read by dispenser.core.checkpoint
OVERRIDE = const(15)  # (hash32, signer) a schedule with overrides confirmed by a button hold
OVERRIDE_PENDING = const(16)  # (hash32,) a schedule with overrides awaits the hold
SELFTEST = const(17)  # (steps passed, steps failed) bit masks of a guided self-test
# (sha256 digest, device id) the confirmation an override needs at every boot: written right
# after the schedule's SCHEDULE record, and again after each rotation's CHECKPOINT while that
# schedule is active
OVERRIDE_BOUND = const(18)
MAINTENANCE = const(19)  # (step, who) the maintenance REPL asked for over USB: MAINT_*
MAINT_ASKED = const(0)
MAINT_OPENED = const(1)  # a 2 s hold at the device confirmed it: the REPL opens
MAINT_REFUSED = const(2)  # no hold within the window: the app runs on
MAINT_SAFE_MODE = const(3)  # the button held at power-on: the REPL, no app, until a reset
_SIGNER_BYTES = const(32)  # the signer's name in an OVERRIDE record, cut and NUL-padded
_DEVICE_BYTES = const(16)  # the device id in an OVERRIDE_BOUND record (`<32s16s`)

# Payload layouts of the fixed-size kinds, indexed by kind.
_FORMATS = (
    None, "<B", "<I", "<I", "<HB", "<H", "<HBBH", "<H", "<HB", "<HBB", "<BH", "<BH", "<H", "<BH",
    None, "<I32s", "<I", "<HH", "<32s16s", "<B32s",
)  # fmt: skip

# Their payload sizes (struct.calcsize of the above), so that no read parses a format.
_SIZES = (0, 1, 4, 4, 3, 2, 6, 2, 3, 4, 3, 3, 2, 3, 0, 36, 4, 4, 48, 33)

# REFUSED reasons
REASON_CAP = const(1)
REASON_SPACING = const(2)
REASON_EMPTY = const(3)
REASON_JAMMED = const(4)
REASON_CEILING = const(5)  # a firmware ceiling (nutrients.CEILINGS, the 7-day vitamin D window)
REASON_NAMES = (None, "cap", "spacing", "empty", "jammed", "ceiling")

# ERROR codes
ERR_SCHEDULE_REJECTED = const(1)  # detail: ScheduleError code
ERR_LOG_CORRUPT = const(2)  # detail: bytes skipped while scanning (capped at 65535)
ERR_TASK_FAILED = const(10)  # detail: rescue.task_failure(): task << 8 | exception type
ERR_HALTED = const(11)  # detail: crashes in a row; the board stays in its safe state

ERR_OVERRIDE_UNCONFIRMED = const(30)  # detail: 0; no hold in time, the old schedule stays
ERR_OVERRIDE_REPLACED = const(31)  # detail: 0; another upload replaced the waiting one
ERR_PRESS_TAKEN = const(32)  # detail: the wait that took a press while a dose was due
ERR_OVERRIDE_UNBOUND = const(33)  # detail: 0; no confirmation here: run at normal limits
ERR_CALIBRATION_REJECTED = const(50)  # detail: 1 damaged, 2 a pulse width out of bounds

# BOOT causes (machine.reset_cause() values are mapped by the board)
BOOT_POWER_ON = const(0)
BOOT_WATCHDOG = const(1)
BOOT_SOFT = const(2)
# What a person reads for each cause (MQTT's `restarted`, pillctl status): code 2 is any
# restart that is neither power nor watchdog, machine.reset() and a soft reset alike.
BOOT_CAUSE_NAMES = ("power", "watchdog", "reset")


def boot_cause(reset_cause):
    """The BOOT record's cause for a board's reset_cause word (power, wdt, reset, soft)."""
    if reset_cause == "power":
        return BOOT_POWER_ON
    return BOOT_WATCHDOG if reset_cause == "wdt" else BOOT_SOFT


UNKNOWN_STOCK = const(0xFFFF)

_HEADER = "<BIIB"


def pack_hopper_nutrient(hopper, nutrient):
    """DISPENSE's second field: the hopper (0-2) in the low 4 bits, the nutrient above."""
    return hopper | nutrient << 4


def unpack_hopper(packed):
    return packed & 0x0F


def unpack_nutrient(packed):
    return packed >> 4


def id_key(name):
    """16-bit key that stands for a dose, item or slot id in records (the schedule check
    rejects collisions within a schedule). Keys survive a schedule change, indices would not."""
    return crc32(name.encode()) & 0xFFFF


def payload_size(kind, fields):
    """The payload's bytes. A CHECKPOINT's `fields` is its payload, as it is
    (dispenser.core.checkpoint lays it out)."""
    return len(fields) if kind == CHECKPOINT else _SIZES[kind]


def encode_into(buf, seq, t, kind, fields):
    """Write one record at the start of `buf` (>= MAX_RECORD bytes); returns its length."""
    size = OVERHEAD + payload_size(kind, fields)
    if size > MAX_RECORD:
        raise ValueError("record too long")
    struct.pack_into(_HEADER, buf, 0, size, seq, t, kind)
    if kind == CHECKPOINT:
        buf[_HEADER_SIZE : size - _CRC_SIZE] = fields
    else:
        struct.pack_into(_FORMATS[kind], buf, _HEADER_SIZE, *fields)
    body = size - _CRC_SIZE
    struct.pack_into("<I", buf, body, crc32(memoryview(buf)[:body]))
    return size


def encode(seq, t, kind, fields):
    """One record as bytes (allocates; the log store uses encode_into with its own buffer)."""
    buf = bytearray(MAX_RECORD)
    return bytes(buf[: encode_into(buf, seq, t, kind, fields)])


def valid_size(view, pos, end):
    """The length of the record at `pos` if a whole valid one starts there (within
    view[:end]), else 0. Checks the length and the CRC only, in one C call: the CRC-32 of a
    record including its stored CRC is the constant _CRC_RESIDUE (a small int even on a Pico,
    where the CRC itself would be a heap integer three times out of four). `view` is a
    memoryview, so that the check copies nothing."""
    if end - pos < OVERHEAD:
        return 0
    size = view[pos]
    if size < OVERHEAD or pos + size > end:
        return 0
    if crc32(view[pos : pos + size]) != _CRC_RESIDUE:
        return 0
    return size


def seq_at(buf, pos):
    """The sequence number of the record at `pos` (read without unpacking the record)."""
    return buf[pos + 1] | buf[pos + 2] << 8 | buf[pos + 3] << 16 | buf[pos + 4] << 24


def kind_at(buf, pos):
    return buf[pos + 9]


def time_at(buf, pos):
    return struct.unpack_from("<I", buf, pos + 5)[0]


def decode_at(buf, pos, end):
    """The record at `pos` as (seq, t, kind, fields), or None if no valid record starts
    there. `fields` is a tuple; a CHECKPOINT and unknown kinds give their payload bytes."""
    if not valid_size(memoryview(buf), pos, end):
        return None
    return decode_valid(buf, pos)


def decode_valid(buf, pos):
    """decode_at for a record valid_size has checked already; None if its payload does not
    match its fixed kind's size."""
    body = pos + buf[pos] - _CRC_SIZE
    _, seq, t, kind = struct.unpack_from(_HEADER, buf, pos)
    start = pos + _HEADER_SIZE
    if 0 < kind < len(_FORMATS) and _FORMATS[kind] is not None:
        if _SIZES[kind] != body - start:
            return None
        fields = struct.unpack_from(_FORMATS[kind], buf, start)
    else:  # a CHECKPOINT (dispenser.core.checkpoint reads it), or a kind from a newer firmware
        fields = bytes(buf[start:body])
    return (seq, t, kind, fields)


def scan(buf, end=-1):
    """Yield (offset, record) for every valid record in buf[:end]; garbage (a torn tail, a
    corrupt stretch) is skipped byte by byte until the next record that checks out."""
    if end < 0:
        end = len(buf)
    view = memoryview(buf)
    pos = 0
    while pos < end:
        rec = decode_valid(buf, pos) if valid_size(view, pos, end) else None
        if rec is None:
            pos += 1
            continue
        yield pos, rec
        pos += buf[pos]


def device_field(device_id):
    """The OVERRIDE_BOUND record's device field: the id's bytes, cut to what the record
    holds (written NUL-padded; compare with the padding stripped)."""
    return device_id.encode()[:_DEVICE_BYTES]


def signer_bytes(signers):
    """The OVERRIDE record's signer field: the names, comma-separated, cut to fit."""
    return ", ".join(signers).encode()[:_SIGNER_BYTES]
