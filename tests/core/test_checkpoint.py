"""The CHECKPOINT record's payload (dispenser.core.checkpoint): round trip, its worst size,
older layouts, and a payload it cannot read."""

from coretools import DAY, at, fresh_engine

from dispenser.core import checkpoint, logrec

FIELDS = (
    20791,
    (90, 0xFFFF, 3),
    0x21,
    (2000, 500, 100, 0),
    ((5, 1796000000),),
    ((1, 1), (2, 2)),
    ((7, 3),),
    ((7, 1796000600),),
    ((1, 2000), (2, 1), (3, 1), (4, 1), (5, 1), (6, 0xFFFF)),
    0xDEADBEEF,
)


def test_checkpoint_round_trip_in_its_record():
    data = logrec.encode(9, 1796000000, logrec.CHECKPOINT, checkpoint.pack(FIELDS))
    seq, t, kind, payload = logrec.decode_at(data, 0, len(data))
    assert (seq, t, kind) == (9, 1796000000, logrec.CHECKPOINT)
    assert checkpoint.unpack(payload) == FIELDS
    assert len(data) == checkpoint.worst_size(1, 2, 1)


def test_checkpoint_from_before_the_week_and_hash_still_decodes():
    # Written by the firmware before checkpoints carried the 7-day vitamin D window and the
    # schedule's hash prefix: it ends after the snoozes.
    fields = (20791, (90, 0xFFFF, 3), 0x21, (2000, 500, 100, 0), (), ((1, 1),), (), (), (), 0)
    old = checkpoint.pack(fields)[:-5]  # without the week's count and the u32 hash
    assert checkpoint.unpack(old) == fields


def test_a_payload_that_is_no_checkpoint_is_refused():
    payload = checkpoint.pack(FIELDS)
    for bad in (payload[:10], payload[:-1], payload + b"\x00", payload[:26]):
        try:
            checkpoint.unpack(bad)
        except ValueError:
            continue
        raise AssertionError(len(bad))


def test_checkpoint_flags_pack_low_stock_below_jams():
    # docs/log-format.md: bits 0-2 low-stock warned, bits 4-6 jammed
    assert checkpoint.pack_flags(0b101, 0b010) == 0x25
    assert checkpoint.unpack_flags(0x25) == (0b101, 0b010)


def test_replay_goes_on_past_a_checkpoint_it_cannot_read():
    e = fresh_engine()
    t = at(e.schedule, DAY, 600)
    e.restore([(1, t, logrec.CHECKPOINT, b"\x00" * 5), (2, t, logrec.REFILL, (0, 30))])
    assert e.ready and e.stock[0] == 30
