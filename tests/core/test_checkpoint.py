"""The CHECKPOINT record's payload (dispenser.core.checkpoint): round trip, its worst size,
older layouts, a payload it cannot read, and rotations that load its code only meanwhile.

Runs under CPython and the MicroPython unix port alike (there the module is unloaded)."""

import sys

from coretools import DAY, at, fresh_engine, remove_tree, temp_dir

from dispenser.compat import Transient
from dispenser.core import checkpoint, logrec
from dispenser.core.engine import Engine
from dispenser.logstore import LogStore

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


def test_replay_goes_on_past_a_checkpoint_it_cannot_read_and_counts_its_bytes():
    e = fresh_engine()
    t = at(e.schedule, DAY, 600)
    e.restore([(1, t, logrec.CHECKPOINT, b"\x00" * 5), (2, t, logrec.REFILL, (0, 30))])
    assert e.ready and e.stock[0] == 30
    # the boot logs it as ERR_LOG_CORRUPT, with the store's own skipped bytes
    assert e.unread_bytes == logrec.OVERHEAD + 5


def test_rotations_write_checkpoints_that_replay_with_the_code_loaded_only_meanwhile():
    # as the controller holds it (controller.CHECKPOINT_CODE): in the unix port the module
    # is unloaded after each rotation and imported again by the next
    code = Transient(("dispenser.core.checkpoint",))
    root = temp_dir()
    try:
        e = fresh_engine()
        s = e.schedule

        def snapshot():
            with code:
                return e.checkpoint()

        store = LogStore(root, budget=1024, segments=4, snapshot=snapshot)
        for t, kind, fields in e.refill(at(s, DAY, 500), 0, 30) + e.press(at(s, DAY, 760)):
            store.append(t, kind, fields)
        for i in range(60):  # rotations, every older segment dropped
            store.append(at(s, DAY, 800) + i, logrec.BOOT, (0,))
        assert store.info()["segments"] == 4
        if sys.implementation.name == "micropython":
            assert "dispenser.core.checkpoint" not in sys.modules
        again = Engine(s)
        with code:
            again.restore(LogStore(root).replay_records())
        assert (again.resolved, again.stock, again.totals) == (e.resolved, e.stock, e.totals)
        assert (again.confirms, again.past_d, again.day) == (e.confirms, e.past_d, e.day)
    finally:
        remove_tree(root)
