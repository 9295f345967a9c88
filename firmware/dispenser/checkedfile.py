"""Small settings files on the flash: one fixed struct followed by its CRC-32.

A file cut short by a power cut, or changed by anything but this module, fails its size or
CRC check and reads as damaged, never as other numbers. A write goes to a temporary file
that is renamed over the old one (atomic on littlefs and POSIX): after a power cut the old
file or the new one is there, never a mix.
"""

import os
import struct

from dispenser.core.crc import crc32

_TMP_SUFFIX = ".tmp"


class DamagedError(ValueError):
    """The file is there but does not check out."""


def read(path, fmt):
    """The values stored at `path` with struct format `fmt`; None when there is no file."""
    try:
        f = open(path, "rb")
    except OSError:
        return None
    with f:
        data = f.read()
    size = struct.calcsize(fmt)
    if len(data) != size + 4 or crc32(data[:size]) != struct.unpack_from("<I", data, size)[0]:
        raise DamagedError(path)
    return struct.unpack_from(fmt, data, 0)


def write(path, fmt, values):
    """Store `values` at `path` atomically; OSError if the flash fails."""
    body = struct.pack(fmt, *values)
    tmp = path + _TMP_SUFFIX
    with open(tmp, "wb") as f:
        f.write(body + struct.pack("<I", crc32(body)))
    os.rename(tmp, path)
