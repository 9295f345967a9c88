"""Log records: round trip, size, CRC and length checks, resync after garbage."""

import struct

from dispenser.core import logrec


def test_round_trip_every_fixed_kind():
    samples = [
        (logrec.BOOT, (1,)),
        (logrec.CLOCK_SET, (1795651200,)),
        (logrec.SCHEDULE, (0xB55A6A72,)),
        (logrec.REMIND, (1234, 3)),
        (logrec.SNOOZE, (1234,)),
        (logrec.DISPENSE, (59897, 0x12, 2, 500)),
        (logrec.MISSED, (9673,)),
        (logrec.REFUSED, (9673, logrec.REASON_CAP)),
        (logrec.JAM, (9673, 1, 0)),
        (logrec.REFILL, (2, 120)),
        (logrec.LOW, (2, 14)),
        (logrec.CONFIRM, (777,)),
        (logrec.ERROR, (1, 2)),
    ]
    for seq, (kind, fields) in enumerate(samples, 1):
        data = logrec.encode(seq, 1796000000 + seq, kind, fields)
        assert data[0] == len(data)
        assert logrec.decode_at(data, 0, len(data)) == (seq, 1796000000 + seq, kind, fields)


def test_dispense_record_is_compact():
    assert len(logrec.encode(1, 1796000000, logrec.DISPENSE, (1, 2, 1, 250))) == 20
    assert len(logrec.encode(1, 1796000000, logrec.REMIND, (1, 1))) == 17


def test_override_records_carry_the_signer_cut_to_fit():
    signer = logrec.signer_bytes(["Dr. Ada Lovelace", "Dr. Grace Hopper"])
    data = logrec.encode(4, 1796000000, logrec.OVERRIDE, (0x12345678, signer))
    assert logrec.decode_at(data, 0, len(data))[3] == (
        0x12345678,
        b"Dr. Ada Lovelace, Dr. Grace Hopp",
    )


def test_every_torn_prefix_is_rejected():
    data = logrec.encode(3, 1796000000, logrec.DISPENSE, (1, 2, 1, 250))
    for n in range(len(data)):
        assert logrec.decode_at(data[:n], 0, n) is None


def test_any_flipped_byte_is_rejected():
    data = logrec.encode(3, 1796000000, logrec.DISPENSE, (1, 2, 1, 250))
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x40
        assert logrec.decode_at(bad, 0, len(bad)) is None


def test_scan_resyncs_after_a_torn_record():
    first = logrec.encode(1, 10, logrec.BOOT, (0,))
    torn = logrec.encode(2, 11, logrec.DISPENSE, (1, 2, 1, 250))[:9]
    third = logrec.encode(3, 12, logrec.MISSED, (7,))
    seqs = [rec[0] for _, rec in logrec.scan(first + torn + third)]
    assert seqs == [1, 3]


def test_unknown_kind_is_kept_as_raw_payload():
    buf = bytearray(logrec.MAX_RECORD)
    # write a BOOT record, then relabel it with a future kind and fix the CRC
    n = logrec.encode_into(buf, 1, 10, logrec.BOOT, (7,))
    buf[9] = 99
    from dispenser.core.crc import crc32

    crc = crc32(bytes(buf[: n - 4]))
    buf[n - 4 : n] = bytes([crc & 255, (crc >> 8) & 255, (crc >> 16) & 255, crc >> 24])
    assert logrec.decode_at(buf, 0, n) == (1, 10, 99, b"\x07")


def test_id_key_is_stable():
    assert logrec.id_key("d3-lunch") == logrec.id_key("d3-lunch")
    assert logrec.id_key("d3-lunch") != logrec.id_key("k2-lunch")


def test_hopper_and_nutrient_pack_into_one_field_and_back():
    packed = logrec.pack_hopper_nutrient(2, 3)
    assert packed == 0x32
    assert logrec.unpack_hopper(packed) == 2 and logrec.unpack_nutrient(packed) == 3


def test_the_payload_size_table_matches_the_formats():
    for kind in range(1, len(logrec._FORMATS)):
        if logrec._FORMATS[kind] is not None:
            assert logrec._SIZES[kind] == struct.calcsize(logrec._FORMATS[kind]), kind
