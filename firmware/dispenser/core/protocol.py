"""Line framing of the serial protocol (docs/protocol.md), shared by device and host.

A frame is one UTF-8 line: ``P1 <id> <verb> <json> <crc>`` where ``crc`` is the CRC-32 (8
lower hex digits) of the UTF-8 bytes of everything before the last space. Text in the JSON
(names as people write them) travels as UTF-8 both ways, not as JSON escapes, which
MicroPython's decoder would turn into invalid UTF-8 for an emoji. Requests carry a command
name as verb; replies use ``ok`` or ``err``; unsolicited events use ``evt`` with id 0.
Anything else on the line (REPL banners, tracebacks, garbage) is not a frame and is ignored
by both sides.
"""

import json
from binascii import b2a_base64

from dispenser.compat import const
from dispenser.core.crc import crc32

PREFIX = "P1"
_RAW_END = b'"}'
MAX_FRAME = const(1024)  # bytes, newline included; longer lines are refused unread

# Error codes carried in err frames: {"code": ..., "msg": ...}
E_FRAME = "bad_frame"
E_CRC = "bad_crc"
E_TOO_LONG = "too_long"
E_VERSION = "bad_version"
E_UNKNOWN = "unknown_cmd"
E_ARGS = "bad_args"
E_REFUSED = "refused"
E_INTERNAL = "internal"
MAX_CHUNK = const(2048)  # bytes of data per log.read or schedule.get reply
# `maintenance` answers once a hold of MAINTENANCE_HOLD_MS began within MAINTENANCE_WINDOW_MS
# of the request (the host tells the person these numbers)
MAINTENANCE_WINDOW_MS = const(60000)
MAINTENANCE_HOLD_MS = const(2000)
SELFTEST_HOLD_MS = const(2000)  # the self-test's button-hold step (the host says how long)


class FrameError(Exception):
    """A line that looked like a frame but is not a valid one. args: (code, message)."""


# CPython (the host) is asked to write UTF-8 as is, as MicroPython's json.dumps always does.
_ENCODER = getattr(json, "JSONEncoder", None)
_dumps = _ENCODER(ensure_ascii=False).encode if _ENCODER is not None else json.dumps


def encode(frame_id, verb, payload):
    """The frame as a str without the newline."""
    head = _head(frame_id, verb, _dumps(payload))
    return head + " " + _crc_hex(head)


def write(out, frame_id, verb, payload):
    """Write the frame and its newline to the stream `out`, as encode makes it, in pieces:
    no str holds the whole line. A `b64` member that is bytes (base64 text: nothing in it
    needs escaping) is taken out of `payload` and written last, as it is, so json.dumps
    never scans it. log.read and schedule.get reply so."""
    raw = payload.get("b64")
    if not isinstance(raw, bytes):
        head = _head(frame_id, verb, _dumps(payload))
        out.write(head)
        out.write(" %08x\n" % crc32(head.encode()))
        return
    del payload["b64"]
    head = _head(frame_id, verb, _dumps(payload)[:-1])
    head += (", " if payload else "") + '"b64": "'
    crc = crc32(_RAW_END, crc32(raw, crc32(head.encode())))
    out.write(head)
    out.write(raw)
    out.write('"} %08x\n' % crc)


def _head(frame_id, verb, body):
    return PREFIX + " " + str(frame_id) + " " + verb + " " + body


def decode(line):
    """Parse one line (str, no newline) into ``(id, verb, payload)``.

    Returns None for a line that is not a frame at all (no ``P<n> `` prefix), so REPL output
    and line noise are skipped silently. Raises FrameError for a damaged or foreign frame.
    """
    if len(line) < 3 or line[0] != "P" or line[1] not in "0123456789":
        return None
    cut = line.rfind(" ")
    if cut < 0:
        raise FrameError(E_FRAME, "no checksum")
    head = line[:cut]
    if line[cut + 1 :] != _crc_hex(head):
        raise FrameError(E_CRC, "checksum mismatch")
    parts = head.split(" ", 3)
    if parts[0] != PREFIX:
        raise FrameError(E_VERSION, "protocol " + parts[0] + " not supported, this is " + PREFIX)
    if len(parts) != 4:
        raise FrameError(E_FRAME, "expected: P1 <id> <verb> <json> <crc>")
    try:
        frame_id = int(parts[1])
    except ValueError:
        raise FrameError(E_FRAME, "request id is not a number")
    try:
        payload = json.loads(parts[3])
    except ValueError:
        raise FrameError(E_FRAME, "payload is not JSON")
    return frame_id, parts[2], payload


def _crc_hex(text):
    return "%08x" % crc32(text.encode())


# --- the device's side of a request: what every module of serial commands shares -------
class RefusedError(Exception):
    """The device will not do it (an E_REFUSED reply); args: (message saying why, and
    optionally a dict of members the reply adds for a program). A ValueError from a
    handler is an E_ARGS reply."""


def int_arg(args, name, low, high):
    """The request's integer argument `name`, within [low, high], or ValueError naming it."""
    value = args.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError("%s must be an integer from %d to %d" % (name, low, high))
    return value


def b64(data):
    """Base64 as bytes, not str: write() puts them into the reply frame as they are, with
    no copy and no JSON escaping pass."""
    return b2a_base64(data, newline=False)
