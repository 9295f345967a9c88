"""The append-only event log on the flash filesystem: segment files with rotation.

The log lives in a directory of segment files named by a growing number ("00000007.log").
Records are appended to the newest; when a record would not fit into the segment size
(budget / segments), a new segment is started and, if there are more than `segments`
files, the oldest is deleted. Each new segment opens with a CHECKPOINT record (from the
`snapshot` callable, normally Engine.checkpoint) so that dropping old segments never loses
the day's lockout, totals, confirmations or stock.

Only `open`, `os.listdir/mkdir/remove/stat` are used, which littlefs on the Pico, the unix
port and CPython all provide. Reads stream through one buffer allocated once.
"""

import os

from dispenser import logrec
from dispenser.compat import const

DEFAULT_BUDGET = const(65536)
DEFAULT_SEGMENTS = const(4)
_SUFFIX = ".log"
_READ_BUF = const(1024)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class LogStore:
    def __init__(self, root, budget=DEFAULT_BUDGET, segments=DEFAULT_SEGMENTS, snapshot=None):
        self.root = root
        self.budget = budget
        self.max_segments = segments
        self.segment_size = budget // segments
        self.snapshot = snapshot
        self.skipped_bytes = 0  # garbage skipped by the last records() pass (torn tails)
        self._wbuf = bytearray(logrec.MAX_RECORD)
        self._rbuf = bytearray(_READ_BUF)
        if not _exists(root):
            os.mkdir(root)
        self._numbers = self._list_segments()
        if not self._numbers:
            self._numbers = [1]
            open(self._path(1), "wb").close()
        self._active_size = os.stat(self._path(self._numbers[-1]))[6]
        self.last_seq = self._find_last_seq()
        self.first_seq = self._first_seq_of(self._numbers[0])

    def _list_segments(self):
        numbers = []
        for name in os.listdir(self.root):
            if name.endswith(_SUFFIX) and name[: -len(_SUFFIX)].isdigit():
                numbers.append(int(name[: -len(_SUFFIX)]))
        numbers.sort()
        return numbers

    def _path(self, number):
        return self.root + "/" + "%08d" % number + _SUFFIX

    def _find_last_seq(self):
        # The newest segment can hold no valid record (its checkpoint was torn by a power
        # cut right after the rotation), so look further back if needed.
        for i in range(len(self._numbers) - 1, -1, -1):
            last = 0
            for _, rec in self._scan(self._numbers[i]):
                last = rec[0]
            if last:
                return last
        return 0

    def _first_seq_of(self, number):
        scan = self._scan(number)
        for _, rec in scan:
            scan.close()  # closes the file now; MicroPython does not finalise generators
            return rec[0]
        return 0

    # ----- writing -----------------------------------------------------------------------

    def append(self, t, kind, fields):
        """Append one record; returns its sequence number. Durable when this returns."""
        size = logrec.OVERHEAD + logrec.payload_size(kind, fields)
        if self._active_size and self._active_size + size > self.segment_size:
            self._rotate(t)
        return self._write(t, kind, fields)

    def _write(self, t, kind, fields):
        seq = self.last_seq + 1
        n = logrec.encode_into(self._wbuf, seq, t, kind, fields)
        with open(self._path(self._numbers[-1]), "ab") as f:
            f.write(memoryview(self._wbuf)[:n])
        self._active_size += n
        self.last_seq = seq
        if not self.first_seq:
            self.first_seq = seq
        return seq

    def _rotate(self, t):
        number = self._numbers[-1] + 1
        open(self._path(number), "wb").close()
        self._numbers.append(number)
        self._active_size = 0
        if self.snapshot is not None:
            self._write(t, logrec.CHECKPOINT, self.snapshot())
        while len(self._numbers) > self.max_segments:
            os.remove(self._path(self._numbers.pop(0)))
        self.first_seq = self._first_seq_of(self._numbers[0])

    # ----- reading -----------------------------------------------------------------------

    def _scan(self, number):
        """Yield (offset in the read buffer, record) for every valid record of one segment,
        oldest first, streaming through the read buffer (valid until the next step). Torn or
        corrupt bytes are skipped (resync). Close the generator when stopping early."""
        buf = self._rbuf
        view = memoryview(buf)
        filled = 0
        pos = 0
        eof = False
        with open(self._path(number), "rb") as f:
            while True:
                if not eof and filled - pos < logrec.MAX_RECORD:
                    # keep a whole maximal record in the buffer so "incomplete" means "torn"
                    view[: filled - pos] = view[pos:filled]
                    filled -= pos
                    pos = 0
                    n = f.readinto(view[filled:])
                    if n:
                        filled += n
                    else:
                        eof = True
                    continue
                if pos >= filled:
                    return
                rec = logrec.decode_at(buf, pos, filled)
                if rec is None:
                    pos += 1
                    self.skipped_bytes += 1
                    continue
                size = buf[pos]
                yield pos, rec
                pos += size

    def records(self, since=0):
        """Every readable record with seq > `since`, oldest first, as (seq, t, kind, fields).
        Afterwards `skipped_bytes` tells how much garbage was skipped (worth an ERROR record
        with logrec.ERR_LOG_CORRUPT after the boot replay)."""
        self.skipped_bytes = 0
        for number in self._numbers[:]:
            for _, rec in self._scan(number):
                if rec[0] > since:
                    yield rec

    def read_since(self, seq, max_bytes):
        """Raw records with sequence > `seq`, whole records only, at most `max_bytes` (but
        always at least one record if there is one). Returns (data, last seq included or
        `seq`); decode `data` with dispenser.logrec.scan. For the protocol's `log.read`."""
        out = bytearray()
        last = seq
        for number in self._numbers[:]:
            scan = self._scan(number)
            for pos, rec in scan:
                if rec[0] <= seq:
                    continue
                size = self._rbuf[pos]
                if out and len(out) + size > max_bytes:
                    scan.close()
                    return bytes(out), last
                out.extend(memoryview(self._rbuf)[pos : pos + size])
                last = rec[0]
        return bytes(out), last

    def info(self):
        """Figures for the protocol's `log.info`."""
        used = 0
        for number in self._numbers:
            used += os.stat(self._path(number))[6]
        return {
            "first": self.first_seq,
            "last": self.last_seq,
            "bytes": used,
            "budget": self.budget,
            "segments": len(self._numbers),
        }
