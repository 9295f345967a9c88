"""Property test (CPython only): whatever garbage a log holds, and wherever, a pull with
`log.read` (LogStore.read_since, any chunk size) returns every record the log's own scan
finds, each once, in order, and no garbage.

Garbage is what power cuts leave: torn records, and stretches of bytes that are no record.
Its place and size are drawn against the reply buffer's size too, so a stretch cut out of
the buffer is followed by more than the buffer holds.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispenser.core import logrec
from dispenser.logstore import LogStore

garbage = st.lists(
    st.tuples(
        st.floats(0, 1),  # where in the segment, as a fraction of its length
        st.binary(min_size=1, max_size=300) | st.sampled_from([b"\x22" * 40, b"\x0e" * 14]),
    ),
    max_size=3,
)


def _records_once(store: LogStore) -> list[int]:
    seqs: list[int] = []
    for rec in store.records():
        if not seqs or rec[0] > seqs[-1]:
            seqs.append(rec[0])
    return seqs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.integers(0, 600),
    budget=st.sampled_from([8192, 65536]),
    per_segment=st.lists(garbage, min_size=1, max_size=4),
    limit=st.sampled_from([1, 40, 255, 300, 1000, 2048]),
)
def test_a_pull_returns_every_record_once_whatever_the_garbage(records, budget, per_segment, limit):
    root = tempfile.mkdtemp(prefix="dispenser-log-")
    try:
        store = LogStore(root + "/log", budget=budget)
        for i in range(records):
            if i % 3:
                store.append(100 + i, logrec.REFILL, (i % 3, i % 1000))
            else:
                store.append(100 + i, logrec.DISPENSE, (i % 60000, 1, 2, 300))
        for name, stretches in zip(sorted(os.listdir(root + "/log")), per_segment, strict=False):
            path = root + "/log/" + name
            with open(path, "rb") as f:
                data = f.read()
            for where, junk in stretches:
                at = int(where * len(data))
                data = data[:at] + junk + data[at:]
            with open(path, "wb") as f:
                f.write(data)
        expected = _records_once(LogStore(root + "/log", budget=budget))
        reader = LogStore(root + "/log", budget=budget)
        pulled: list[int] = []
        since = 0
        while True:
            data, since = reader.read_since(since, limit)
            if not data:
                break
            found = list(logrec.scan(data))
            assert sum(data[pos] for pos, _ in found) == len(data)  # whole records only
            pulled += [rec[0] for _, rec in found]
        assert pulled == expected
    finally:
        shutil.rmtree(root)
