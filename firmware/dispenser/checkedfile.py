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
    replace(path, body + struct.pack("<I", crc32(body)))


def replace(path, data):
    """Make `data` the content of `path` atomically: written to a temporary file, read
    back (a short write must not replace a good file), then renamed over the old one.
    OSError if the flash fails; the old file stays and the temporary one is removed."""
    tmp = path + _TMP_SUFFIX
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        with open(tmp, "rb") as f:
            if f.read() != data:
                raise OSError(5)  # EIO
        os.rename(tmp, path)
    except OSError:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
