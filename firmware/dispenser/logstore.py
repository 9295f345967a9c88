"""The append-only event log on the flash filesystem: segment files with rotation.

The log lives in a directory of segment files named by a growing number ("00000007.log").
Records are appended to the newest; when a record would not fit into the segment size
(budget / segments), a new segment is started and, if there are more than `segments`
files, the oldest is deleted. Each new segment opens with a CHECKPOINT record (from the
`snapshot` callable, normally Engine.checkpoint) so that dropping old segments never loses
the day's lockout, totals, confirmations or stock, and boot replays from the newest
checkpoint only.

A checkpoint must only hold what is already on flash, but the engine applies its events
before they are written. So the app wraps every engine decision in `begin(t, worst-case
bytes)` ... `end()`: begin rotates, if it must, BEFORE the engine decides, and no append
rotates while a batch is open (a press keeps its batch open while its pills drop, so a tick
or a command in between cannot rotate either). A batch that outgrows its reservation makes
the segment a little longer than its size instead of taking a checkpoint mid-batch.

Without a snapshot (no engine: schedule.json was rejected at boot) a rotation writes no
checkpoint, so it keeps the segment holding the newest checkpoint and everything after it:
replay needs exactly those (the day's lockout, stock, jams). The log then grows past its
budget, but only with boots, errors and clock sets (about 30 B each), and only until the
oldest segment's newest record is two days older than the record being written: then it
cannot hold the current day's lockout (UTC offsets are under a day), and it goes, taking
the older stock and jam state with it. Past 4x `segments` files (a clock that stays unknown
through hundreds of boots) the flash's own limit wins and the oldest goes anyway.

Only `open`, `os.listdir/mkdir/remove/stat` are used, which littlefs on the Pico, the unix
port and CPython all provide. Reads stream through one buffer allocated once.
"""

import os

from dispenser import logrec
from dispenser.compat import const
from dispenser.localtime import DAY_S, MIN_VALID_TIME

DEFAULT_BUDGET = const(65536)
_DEFAULT_SEGMENTS = const(4)
_SUFFIX = ".log"
_READ_BUF = const(1024)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class LogStore:
    def __init__(
        self, root, budget=DEFAULT_BUDGET, segments=_DEFAULT_SEGMENTS, snapshot=None, carry=None
    ):
        self.root = root
        self.budget = budget
        self.max_segments = segments
        self.segment_size = budget // segments
        self.snapshot = snapshot
        self.carry = carry  # () -> (t, kind, fields) records to copy after each CHECKPOINT
        self.skipped_bytes = 0  # garbage skipped by the last records() pass (torn tails)
        self._wbuf = bytearray(logrec.MAX_RECORD)
        self._rbuf = bytearray(_READ_BUF)
        self._base = 0  # file offset of _rbuf[0] during a _scan
        self._open_batches = 0  # begin() without end() yet: no rotation now
        # Where the last read_since stopped (seq, segment number, file offset), so that a
        # sequential pull costs one request's bytes, not a scan from the segment's start.
        self._cursor_seq = -1
        self._cursor_number = 0
        self._cursor_offset = 0
        if not _exists(root):
            os.mkdir(root)
        self._numbers = self._list_segments()
        if not self._numbers:
            self._numbers = [1]
            open(self._path(1), "wb").close()
        # Per segment: its first record's seq (0: none readable) and whether that record is
        # a CHECKPOINT. Reads start at the right segment; replay at the newest checkpoint.
        self._firsts = []
        self._ckpts = []
        for number in self._numbers:
            self._note_first(number)
        self._active_size = os.stat(self._path(self._numbers[-1]))[6]
        # The newest seq, found when first needed: at boot the replay passes it on its way,
        # which saves a second scan of the newest segment.
        self._last = -1

    def _list_segments(self):
        numbers = []
        for name in os.listdir(self.root):
            if name.endswith(_SUFFIX) and name[: -len(_SUFFIX)].isdigit():
                numbers.append(int(name[: -len(_SUFFIX)]))
        numbers.sort()
        return numbers

    def _path(self, number):
        return self.root + "/" + "%08d" % number + _SUFFIX

    def _note_first(self, number):
        first = 0
        ckpt = False
        scan = self._scan(number)
        for _, rec in scan:
            scan.close()  # closes the file now; MicroPython does not finalise generators
            first = rec[0]
            ckpt = rec[2] == logrec.CHECKPOINT
            break
        self._firsts.append(first)
        self._ckpts.append(ckpt)

    def _find_last_seq(self):
        # The newest segment can hold no valid record (its checkpoint was torn by a power
        # cut right after the rotation), so look further back if needed.
        for i in range(len(self._numbers) - 1, -1, -1):
            if not self._firsts[i]:
                continue
            last = 0
            for _, rec in self._scan(self._numbers[i]):
                last = rec[0]
            return last
        return 0

    @property
    def last_seq(self):
        if self._last < 0:
            self._last = self._find_last_seq()
        return self._last

    @property
    def first_seq(self):
        for first in self._firsts:
            if first:
                return first
        return 0

    # ----- writing -----------------------------------------------------------------------

    def begin(self, t, nbytes):
        """Open a batch: call BEFORE the engine decides events worth up to `nbytes`. Starts
        a new segment first if they would not fit, so the checkpoint comes from a state that
        holds only records already on flash. Pair with end()."""
        # At most half a segment is reserved: a rotation per batch would empty the log.
        self._make_room(t, min(nbytes, self.segment_size // 2))
        self._open_batches += 1

    def end(self):
        self._open_batches -= 1

    def _make_room(self, t, nbytes):
        if self._open_batches:
            return  # events of an open batch may be applied but not yet written
        if self._active_size and self._active_size + nbytes > self.segment_size:
            self._rotate(t)

    def append(self, t, kind, fields):
        """Append one record; returns its sequence number. Durable when this returns.
        Rotates when the record does not fit, unless a batch is open (see begin)."""
        self._make_room(t, logrec.OVERHEAD + logrec.payload_size(kind, fields))
        return self._write(t, kind, fields)

    def _write(self, t, kind, fields):
        seq = self.last_seq + 1
        n = logrec.encode_into(self._wbuf, seq, t, kind, fields)
        with open(self._path(self._numbers[-1]), "ab") as f:
            f.write(memoryview(self._wbuf)[:n])
        if not self._active_size:
            self._firsts[-1] = seq
            self._ckpts[-1] = kind == logrec.CHECKPOINT
        self._active_size += n
        self._last = seq
        return seq

    def _rotate(self, t):
        number = self._numbers[-1] + 1
        open(self._path(number), "wb").close()
        self._numbers.append(number)
        self._firsts.append(0)
        self._ckpts.append(False)
        self._active_size = 0
        if self.snapshot is not None:
            self._write(t, logrec.CHECKPOINT, self.snapshot())
            # Records replay must still find after the segments before are gone (the
            # active schedule's override confirmation), each with its own time.
            if self.carry is not None:
                for at, kind, fields in self.carry():
                    self._write(at, kind, fields)
        while len(self._numbers) > self.max_segments:
            if not self._droppable(t):
                break  # the oldest still holds what replay needs (see the module docstring)
            os.remove(self._path(self._numbers.pop(0)))
            self._firsts.pop(0)
            self._ckpts.pop(0)

    def _droppable(self, t):
        """Whether the oldest segment may go (more than max_segments are on flash)."""
        for i in range(1, len(self._ckpts)):
            if self._ckpts[i]:
                return True  # replay starts at that later checkpoint
        if len(self._numbers) > 4 * self.max_segments:
            return True
        if t < MIN_VALID_TIME:
            return False
        newest = 0
        for _, rec in self._scan(self._numbers[0]):
            newest = max(newest, rec[1])
        return t - newest > 2 * DAY_S

    # ----- reading -----------------------------------------------------------------------

    def _scan(self, number, start=0):
        """Yield (offset in the read buffer, record) for every valid record of one segment
        from file offset `start`, oldest first, streaming through the read buffer (valid
        until the next step; `self._base` is the file offset of its byte 0). Torn or corrupt
        bytes are skipped (resync). Close the generator when stopping early."""
        buf = self._rbuf
        view = memoryview(buf)
        filled = 0
        pos = 0
        eof = False
        self._base = start
        with open(self._path(number), "rb") as f:
            if start:
                f.seek(start)
            while True:
                if not eof and filled - pos < logrec.MAX_RECORD:
                    # keep a whole maximal record in the buffer so "incomplete" means "torn"
                    view[: filled - pos] = view[pos:filled]
                    filled -= pos
                    self._base += pos
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
        Afterwards `skipped_bytes` tells how much garbage was skipped."""
        self.skipped_bytes = 0
        for i in range(self._segment_for(since), len(self._numbers)):
            for _, rec in self._scan(self._numbers[i]):
                if rec[0] > since:
                    yield rec

    def replay_records(self):
        """What boot replays: the records from the newest checkpoint that begins a segment
        on (a torn checkpoint falls back to the one before). Afterwards `skipped_bytes`
        tells how much garbage was skipped (worth an ERROR record with
        logrec.ERR_LOG_CORRUPT after the boot replay)."""
        self.skipped_bytes = 0
        start = 0
        for i in range(len(self._ckpts)):
            if self._ckpts[i]:
                start = i
        last = 0
        for i in range(start, len(self._numbers)):
            for _, rec in self._scan(self._numbers[i]):
                last = rec[0]
                yield rec
        if last:
            self._last = last

    def _segment_for(self, seq):
        """Index of the segment where records after `seq` start."""
        index = 0
        for i in range(len(self._firsts)):
            if self._firsts[i] and self._firsts[i] <= seq + 1:
                index = i
        return index

    def read_since(self, seq, max_bytes):
        """Raw records with sequence > `seq`, whole records only, at most `max_bytes` (but
        always at least one record if there is one). Returns (data, last seq included or
        `seq`); decode `data` with dispenser.logrec.scan. For the protocol's `log.read`.
        Starts at the segment holding seq + 1, or where the previous request stopped."""
        out = bytearray()
        last = seq
        first = self._segment_for(seq)
        offset = 0
        if seq == self._cursor_seq and self._cursor_number in self._numbers:
            first = self._numbers.index(self._cursor_number)
            offset = self._cursor_offset
        for i in range(first, len(self._numbers)):
            number = self._numbers[i]
            scan = self._scan(number, offset)
            offset = 0
            for pos, rec in scan:
                if rec[0] <= seq:
                    continue
                size = self._rbuf[pos]
                if out and len(out) + size > max_bytes:
                    scan.close()
                    return bytes(out), last
                out.extend(memoryview(self._rbuf)[pos : pos + size])
                last = rec[0]
                self._cursor_seq = last
                self._cursor_number = number
                self._cursor_offset = self._base + pos + size
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
