"""CRC-32 (IEEE 802.3, as zlib) for protocol frames and log records.

Every runtime the firmware runs on has binascii.crc32: the rp2 port (its stubs, made from
the firmware, list it), the unix port and CPython. Its result is already unsigned on
MicroPython and CPython 3; masking it would make a second heap integer on a Pico (a CRC is
above 2^30 three times out of four).
"""

from binascii import crc32

__all__ = ["crc32"]
