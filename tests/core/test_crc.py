"""CRC-32 matches zlib's, natively and through the small-table fallback."""

from dispenser import crc


def test_known_check_value():
    # The standard CRC-32 check value for "123456789".
    assert crc.crc32(b"123456789") == 0xCBF43926


def test_table_fallback_matches_native():
    for data in (b"", b"a", b"hello world", bytes(range(256))):
        assert crc._table_crc32(data) == crc.crc32(data)


def test_incremental():
    whole = crc.crc32(b"hello world")
    part = crc.crc32(b" world", crc.crc32(b"hello"))
    assert whole == part
    assert crc._table_crc32(b" world", crc._table_crc32(b"hello")) == whole
