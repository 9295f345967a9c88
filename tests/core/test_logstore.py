"""The flash log: append, read back, rotation with checkpoints, torn tails, log.read/info."""

from coretools import DAY, at, fresh_engine, remove_tree, temp_dir

from dispenser.core import logrec
from dispenser.core.engine import Engine
from dispenser.logstore import LogStore


def _segment_paths(root):
    return sorted(root + "/" + n for n in __import__("os").listdir(root))


def test_append_and_read_back_after_reopen():
    root = temp_dir()
    try:
        store = LogStore(root)
        assert store.append(10, logrec.BOOT, (0,)) == 1
        assert store.append(11, logrec.REFILL, (2, 120)) == 2
        again = LogStore(root)
        assert list(again.records()) == [
            (1, 10, logrec.BOOT, (0,)),
            (2, 11, logrec.REFILL, (2, 120)),
        ]
        assert again.append(12, logrec.MISSED, (7,)) == 3
        assert [r[0] for r in again.records(since=1)] == [2, 3]
    finally:
        remove_tree(root)


def test_torn_tail_is_skipped_and_later_appends_stay_readable():
    root = temp_dir()
    try:
        store = LogStore(root)
        store.append(10, logrec.BOOT, (0,))
        store.append(11, logrec.DISPENSE, (1, 2, 1, 250))
        path = _segment_paths(root)[-1]
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[:-7])  # power cut in the middle of the second record
        store = LogStore(root)
        assert store.last_seq == 1
        assert store.append(12, logrec.BOOT, (1,)) == 2
        assert list(store.records()) == [(1, 10, logrec.BOOT, (0,)), (2, 12, logrec.BOOT, (1,))]
        assert store.skipped_bytes == 13
    finally:
        remove_tree(root)


def test_rotation_stays_in_budget_and_keeps_the_lockout():
    root = temp_dir()
    try:
        engine = fresh_engine()
        s = engine.schedule
        store = LogStore(root, budget=1024, segments=4, snapshot=engine.checkpoint)
        for t, kind, fields in engine.press(at(s, DAY, 760)):
            store.append(t, kind, fields)
        for i in range(200):  # enough reminders to rotate several times
            store.append(at(s, DAY, 800) + i, logrec.BOOT, (0,))
        info = store.info()
        assert info["bytes"] <= 1024 and info["segments"] == 4
        assert info["last"] == store.last_seq and info["first"] > 2
        rebuilt = Engine(s)
        rebuilt.restore(LogStore(root).records())
        rebuilt.clock_known = True
        assert rebuilt.resolved == engine.resolved
        assert [ev for ev in rebuilt.press(at(s, DAY, 801)) if ev[1] == logrec.DISPENSE] == []
    finally:
        remove_tree(root)


def test_read_since_returns_whole_records_within_the_byte_limit():
    root = temp_dir()
    try:
        store = LogStore(root)
        for i in range(10):
            store.append(100 + i, logrec.REFILL, (0, i))
        data, last = store.read_since(3, 40)
        recs = [rec for _, rec in logrec.scan(data)]
        assert [r[0] for r in recs] == [4, 5] and last == 5 and len(data) == 34
        data, last = store.read_since(last, 1)  # always at least one record
        assert [rec[0] for _, rec in logrec.scan(data)] == [6] and last == 6
        data, last = store.read_since(10, 1000)
        assert (bytes(data), last) == (b"", 10)
    finally:
        remove_tree(root)


def test_read_since_cuts_garbage_out_and_reads_every_record_once():
    root = temp_dir()
    try:
        store = LogStore(root)
        for i in range(6):
            store.append(100 + i, logrec.REFILL, (0, i))
        path = _segment_paths(root)[-1]
        with open(path, "rb") as f:
            data = f.read()
        size = len(data) // 6
        # a stretch of garbage between records 3 and 4, a torn record at the end
        with open(path, "wb") as f:
            f.write(data[: 3 * size] + b"\x22garbage" + data[3 * size :] + data[:9])
        store = LogStore(root)
        for limit in (1, 40, 1000):
            seqs = []
            since = 0
            while True:
                data, since = store.read_since(since, limit)
                if not data:
                    break
                seqs += [rec[0] for _, rec in logrec.scan(data)]
                assert len(bytes(data)) % size == 0  # whole records only, no garbage
            assert seqs == [1, 2, 3, 4, 5, 6], (limit, seqs)
            assert since == 6
    finally:
        remove_tree(root)


class _CountedReads:
    """The `open` the log store sees, counting the reads (readinto calls) of its files."""

    def __init__(self):
        self.reads = 0

    def __call__(self, path, mode="r"):
        counter = self
        real = open(path, mode)

        class File:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                real.close()

            def __getattr__(self, name):  # write, seek, close: the real file's
                return getattr(real, name)

            def readinto(self, buf):
                counter.reads += 1
                return real.readinto(buf)

        return File()


def test_read_since_skips_a_long_torn_stretch_without_reading_it_again_per_byte():
    # A power cut mid-append leaves up to a record of garbage (up to 254 bytes) that every
    # later log.read crosses: it is cut out in the reply buffer, not by a read per byte.
    import dispenser.logstore as logstore_module

    root = temp_dir()
    reads = _CountedReads()
    logstore_module.open = reads  # counts from the read_since below on
    try:
        store = LogStore(root)
        for i in range(6):
            store.append(100 + i, logrec.REFILL, (0, i))
        path = _segment_paths(root)[-1]
        with open(path, "ab") as f:
            f.write(b"\xfe" + b"\x5a" * 253)  # a torn record's bytes
        store = LogStore(root)
        for i in range(6):
            store.append(200 + i, logrec.REFILL, (1, i))
        reads.reads = 0
        store.skipped_bytes = 0
        data, last = store.read_since(0, 2048)
        assert [rec[0] for _, rec in logrec.scan(data)] == list(range(1, 13)) and last == 12
        assert reads.reads <= 2, reads.reads
        assert store.skipped_bytes == 254
    finally:
        del logstore_module.open
        remove_tree(root)


def test_last_written_is_the_record_the_last_append_wrote_even_after_a_rotation():
    root = temp_dir()
    try:
        engine = fresh_engine()
        store = LogStore(root, budget=1024, segments=4, snapshot=engine.checkpoint)
        rotated = False
        for i in range(120):  # rotates: a CHECKPOINT is written before some of them
            segments = len(_segment_paths(root))
            seq = store.append(1000 + i, logrec.REFILL, (1, i))
            rotated = rotated or len(_segment_paths(root)) > segments
            assert bytes(store.last_written()) == logrec.encode(
                seq, 1000 + i, logrec.REFILL, (1, i)
            )
        assert rotated
    finally:
        remove_tree(root)


def test_read_since_after_garbage_mid_segment_still_reads_every_record_once():
    # The garbage is cut out of the reply buffer; what follows it in the segment is more
    # than the buffer holds, so the read must go on in the file, not take the buffer's end
    # for the segment's.
    root = temp_dir()
    try:
        store = LogStore(root)
        for i in range(10):
            store.append(100 + i, logrec.REFILL, (0, i))
        path = _segment_paths(root)[-1]
        with open(path, "ab") as f:
            f.write(b"\x22" * 40)
        store = LogStore(root)
        for i in range(250):
            store.append(200 + i, logrec.REFILL, (1, i))  # past the buffer, into a 2nd segment
        for limit in (256, 2048):
            reader = LogStore(root)
            seqs = []
            since = 0
            while True:
                data, since = reader.read_since(since, limit)
                if not data:
                    break
                seqs += [rec[0] for _, rec in logrec.scan(data)]
            assert seqs == list(range(1, 261)), (limit, len(seqs))
    finally:
        remove_tree(root)


def test_segments_are_a_flash_block_and_at_least_four():
    # a boot replays about one segment: its cost is bounded by a block, whatever the budget
    root = temp_dir()
    try:
        store = LogStore(root)
        assert (store.max_segments, store.segment_size) == (16, 4096)
        store = LogStore(root, budget=8192)
        assert (store.max_segments, store.segment_size) == (4, 2048)
        store = LogStore(root, budget=1 << 20)
        assert store.segment_size == 4096
    finally:
        remove_tree(root)
