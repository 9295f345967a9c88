"""CRC-32 (IEEE 802.3, as zlib) for protocol frames and log records.

binascii.crc32 is used where the port has it; otherwise a 16-entry nibble table keeps the
fallback small (64 bytes of table instead of 1 KB).
"""

try:
    from binascii import crc32 as _native_crc32
except ImportError:
    _native_crc32 = None

_NIBBLE_TABLE = (
    0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4, 0x4DB26158, 0x5005713C,
    0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C, 0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
)  # fmt: skip


def _table_crc32(data, crc=0):
    crc = ~crc & 0xFFFFFFFF
    for byte in data:
        crc = (crc >> 4) ^ _NIBBLE_TABLE[(crc ^ byte) & 0x0F]
        crc = (crc >> 4) ^ _NIBBLE_TABLE[(crc ^ (byte >> 4)) & 0x0F]
    return ~crc & 0xFFFFFFFF


def crc32(data, crc=0):
    """CRC-32 of `data` (bytes-like), continuing from `crc`."""
    if _native_crc32 is not None:
        # Already unsigned on MicroPython and CPython 3; masking it would make a second
        # heap integer on a Pico (a CRC is above 2^30 three times out of four).
        return _native_crc32(data, crc)
    return _table_crc32(data, crc)
