"""CRC-32 matches zlib's, and continues across pieces."""

from dispenser.core import crc


def test_known_check_value():
    # The standard CRC-32 check value for "123456789".
    assert crc.crc32(b"123456789") == 0xCBF43926


def test_incremental():
    whole = crc.crc32(b"hello world")
    part = crc.crc32(b" world", crc.crc32(b"hello"))
    assert whole == part
