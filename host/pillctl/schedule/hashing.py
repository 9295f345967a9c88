"""The canonical form and content hash of a device schedule (docs/device-schedule.md).

The body is JSON with sorted keys, no whitespace, and names in UTF-8 as written (not
escaped: MicroPython's JSON decoder turns an escaped emoji's surrogate pair into invalid
UTF-8); the file is that body with ``,"sha256":"<hex>"`` inserted before the final ``}``,
so the device can check it by slicing.
"""

from __future__ import annotations

import hashlib
import json

from dispenser.core import schedule as device

_HASH_MEMBER = b',"sha256":"'
_HEX_DIGITS = 64


def canonical_body(schedule: dict) -> bytes:
    body = {key: value for key, value in schedule.items() if key != "sha256"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def with_hash(schedule: dict) -> bytes:
    """The device file: canonical body with its sha256 member appended."""
    body = canonical_body(schedule)
    digest = hashlib.sha256(body).hexdigest().encode()
    return body[:-1] + _HASH_MEMBER + digest + b'"}'


def embedded_hash(data: bytes) -> str:
    """The sha256 member of a device file, as written (not checked)."""
    start = data.rfind(_HASH_MEMBER) + len(_HASH_MEMBER)
    return data[start : start + _HEX_DIGITS].decode("ascii", "replace")


def verify(data: bytes) -> bool:
    """The device's own check (dispenser.core.schedule.verify_hash), run on the host."""
    try:
        device.verify_hash(data)
    except device.ScheduleError:
        return False
    return True
