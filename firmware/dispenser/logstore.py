"""The append-only event log on the flash filesystem: segment files with rotation.

The log lives in a directory of segment files named by a growing number ("00000007.log").
Records are appended to the newest; when a record would not fit into the segment size
(budget / segments), a new segment is started and, if there are more than `segments`
files, the oldest is deleted. Each new segment opens with a CHECKPOINT record (from the
`snapshot` callable: the controller's, which asks Engine.checkpoint) so that dropping old
segments never loses the day's lockout, totals, confirmations or stock, and boot replays
from the newest checkpoint only.

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
port and CPython all provide. A scan streams through a buffer of its own; a log.read reads
into the reply's buffer; appends encode into one buffer allocated once.
"""

import os

from dispenser.compat import const
from dispenser.core import logrec
from dispenser.core.localtime import DAY_S, MIN_VALID_TIME

LOG_DIR = "log"  # on the flash, beside main.py
DEFAULT_BUDGET = const(65536)
# Segments of one littlefs block each (a Pico's is 4 KB), and at least four: a boot replays
# from the newest segment's checkpoint, so its cost is bounded by the segment size whatever
# the budget (the default 64 KB: 16 segments).
_SEGMENT_BYTES = const(4096)
_MIN_SEGMENTS = const(4)
_SUFFIX = ".log"
_READ_BUF = const(1024)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class LogStore:
    def __init__(self, root, budget=DEFAULT_BUDGET, segments=0, snapshot=None, carry=None):
        if not segments:
            segments = max(_MIN_SEGMENTS, budget // _SEGMENT_BYTES)
        self.root = root
        self.budget = budget
        self.max_segments = segments
        self.segment_size = budget // segments
        self.snapshot = snapshot
        self.carry = carry  # () -> (t, kind, fields) records to copy after each CHECKPOINT
        self.skipped_bytes = 0  # garbage skipped by the last records() pass (torn tails)
        self._wbuf = bytearray(logrec.MAX_RECORD)
        self._base = 0  # file offset of the read buffer's byte 0 during a _scan
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
        # Per segment: its first record's seq (0: none readable, -1: not looked at yet) and
        # whether that record is a CHECKPOINT. Reads start at the right segment; replay at
        # the newest checkpoint. Looked up when first needed (_first): a boot reads only the
        # newest segments, back to the one that starts with a checkpoint.
        self._firsts = [-1] * len(self._numbers)
        self._ckpts = [False] * len(self._numbers)
        self._active_size = os.stat(self._path(self._numbers[-1]))[6]
        # Bytes of the older segments (fixed until dropped; -1: not summed yet), kept so that
        # log.info and status stat no file but the first time.
        self._closed_bytes = -1
        # The newest seq, found when first needed: at boot the replay passes it on its way,
        # which saves a second scan of the newest segment.
        self._last = -1

    def checkpoint_with(self, snapshot, carry):
        """From now on each rotation writes `snapshot()` as its CHECKPOINT, then `carry()`'s
        records (the controller's engine and override confirmation)."""
        self.snapshot = snapshot
        self.carry = carry

    def _list_segments(self):
        numbers = []
        for name in os.listdir(self.root):
            if name.endswith(_SUFFIX) and name[: -len(_SUFFIX)].isdigit():
                numbers.append(int(name[: -len(_SUFFIX)]))
        numbers.sort()
        return numbers

    def _path(self, number):
        return self.root + "/" + "%08d" % number + _SUFFIX

    def _first(self, i):
        """The seq of segment i's first valid record (0: none), noted when first asked."""
        if self._firsts[i] < 0:
            self._note_first(i)
        return self._firsts[i]

    def _starts_with_checkpoint(self, i):
        return self._first(i) and self._ckpts[i]

    def _note_first(self, i):
        """Note segment i's first valid record: its seq, and whether it is a checkpoint.
        Reads one record's bytes, not a buffer's, unless that record is torn."""
        number = self._numbers[i]
        buf = self._wbuf  # free: no record is being written while this runs
        view = memoryview(buf)
        with open(self._path(number), "rb") as f:
            got = f.readinto(view) or 0
        pos = 0 if logrec.valid_size(view, 0, got) else -1
        scan = None
        if pos < 0 and got:  # the first record is torn or corrupt: find the next one
            scan = self._scan(number)
            for buf, pos in scan:
                break
        self._firsts[i] = logrec.seq_at(buf, pos) if pos >= 0 else 0
        self._ckpts[i] = pos >= 0 and logrec.kind_at(buf, pos) == logrec.CHECKPOINT
        if scan is not None:
            scan.close()  # closes the file now; MicroPython does not finalise generators

    def _find_last_seq(self):
        # The newest segment can hold no valid record (its checkpoint was torn by a power
        # cut right after the rotation), so look further back if needed.
        for i in range(len(self._numbers) - 1, -1, -1):
            if not self._first(i):
                continue
            last = 0
            for buf, pos in self._scan(self._numbers[i]):
                last = logrec.seq_at(buf, pos)
            return last
        return 0

    @property
    def last_seq(self):
        if self._last < 0:
            self._last = self._find_last_seq()
        return self._last

    @property
    def first_seq(self):
        for i in range(len(self._numbers)):
            if self._first(i):
                return self._firsts[i]
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

    def last_written(self):
        """The bytes of the record the last append wrote: a view of the write buffer, valid
        until the store next writes or reads a segment's first record (for whoever is told
        of that record as it is logged, before anything else touches the store)."""
        return memoryview(self._wbuf)[: self._wbuf[0]]

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
        if self._closed_bytes >= 0:
            self._closed_bytes += self._active_size
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
            oldest = self._path(self._numbers.pop(0))
            if self._closed_bytes >= 0:
                self._closed_bytes -= os.stat(oldest)[6]
            os.remove(oldest)
            self._firsts.pop(0)
            self._ckpts.pop(0)

    def _droppable(self, t):
        """Whether the oldest segment may go (more than max_segments are on flash)."""
        for i in range(1, len(self._ckpts)):
            if self._starts_with_checkpoint(i):
                return True  # replay starts at that later checkpoint
        if len(self._numbers) > 4 * self.max_segments:
            return True
        if t < MIN_VALID_TIME:
            return False
        newest = 0
        for buf, pos in self._scan(self._numbers[0]):
            newest = max(newest, logrec.time_at(buf, pos))
        return t - newest > 2 * DAY_S

    # ----- reading -----------------------------------------------------------------------

    def _scan(self, number, start=0):
        """Yield (read buffer, offset in it) of every valid record (length and CRC) of one
        segment from file offset `start`, oldest first, streaming through a 1 KB buffer
        (valid until the next step; `self._base` is the file offset of its byte 0). Torn or
        corrupt bytes are skipped (resync). Close the generator when stopping early.
        Nothing is decoded: callers peek at the header or decode what they need. The buffer
        is the scan's own: only a boot, a rotation and a read away from where the last one
        stopped scan, so the running app holds no read buffer."""
        buf = bytearray(_READ_BUF)
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
                    filled, eof = _read_into(f, view, filled)  # a short read is the end
                    continue
                if pos >= filled:
                    return
                size = logrec.valid_size(view, pos, filled)
                if not size:  # garbage: on to the next record, or to a refill before it
                    good = _resync(view, pos, filled, eof)
                    self.skipped_bytes += good - pos
                    pos = good
                    continue
                yield buf, pos
                pos += size

    def _decoded(self, number):
        """Every readable record of one segment, decoded, oldest first."""
        for buf, pos in self._scan(number):
            rec = logrec.decode_valid(buf, pos)
            if rec is None:  # its CRC holds but not its kind's layout: skipped as garbage
                self.skipped_bytes += buf[pos]
                continue
            yield rec

    def records(self, since=0):
        """Every readable record with seq > `since`, oldest first, as (seq, t, kind, fields).
        Afterwards `skipped_bytes` tells how much garbage was skipped."""
        self.skipped_bytes = 0
        for i in range(self._segment_for(since), len(self._numbers)):
            for rec in self._decoded(self._numbers[i]):
                if rec[0] > since:
                    yield rec

    def replay_records(self):
        """What boot replays: the records from the newest checkpoint that begins a segment
        on (a torn checkpoint falls back to the one before). Afterwards `skipped_bytes`
        tells how much garbage was skipped (worth an ERROR record with
        logrec.ERR_LOG_CORRUPT after the boot replay)."""
        self.skipped_bytes = 0
        start = 0
        for i in range(len(self._ckpts) - 1, 0, -1):
            if self._starts_with_checkpoint(i):
                start = i
                break
        last = 0
        for i in range(start, len(self._numbers)):
            for rec in self._decoded(self._numbers[i]):
                last = rec[0]
                yield rec
        if last:
            self._last = last

    def _segment_for(self, seq):
        """Index of the segment where records after `seq` start."""
        index = 0
        for i in range(len(self._firsts)):
            first = self._first(i)
            if first and first <= seq + 1:
                index = i
        return index

    def read_since(self, seq, max_bytes):
        """Raw records with sequence > `seq`, whole valid records only, at most `max_bytes`
        (but always at least one record if there is one). Returns (data, last seq included
        or `seq`): `data` is a memoryview of a buffer allocated for this call; decode it
        with dispenser.core.logrec.scan. For the protocol's `log.read`.

        The file's bytes are read straight into the reply buffer and checked in place, a
        length and a CRC per record (logrec.valid_size): nothing is decoded or copied per
        record. Garbage (a torn tail) is cut out in the buffer: the bytes after it move down
        over it, and the file is read again only for what the buffer could not hold.
        Starts where the previous request stopped, or at the segment holding seq + 1."""
        index, offset = self._locate(seq)
        out = bytearray(max(max_bytes, logrec.MAX_RECORD))
        view = memoryview(out)
        n = 0  # bytes of whole records in `out`; `offset` is the file offset of out[n]
        last = seq
        while index < len(self._numbers):
            number = self._numbers[index]
            with open(self._path(number), "rb") as f:
                f.seek(offset)
                end, eof = _read_into(f, view, n)
                while True:
                    pos, newest, size = _whole_records(view, n, end, max_bytes)
                    offset += pos - n
                    n = pos
                    if newest >= 0:
                        last = logrec.seq_at(out, newest)
                        self._cursor_seq = last
                        self._cursor_number = number
                        self._cursor_offset = offset
                    if size:
                        return view[:n], last  # the next record would pass max_bytes
                    good = _resync(view, pos, end, eof)
                    self.skipped_bytes += good - pos
                    offset += good - pos
                    if good == end and eof:
                        break  # the segment's end (after garbage or not): on to the next
                    if good < end and logrec.valid_size(view, good, end):
                        view[n : end - good + n] = view[good:end]  # over the garbage
                        end -= good - n  # `eof` still holds: these are the same file bytes
                        continue
                    if n + logrec.MAX_RECORD > len(out):
                        return view[:n], last  # full: a record that may be valid waits
                    f.seek(offset)  # read on from what the buffer did not hold
                    end, eof = _read_into(f, view, n)
            index += 1
            offset = 0
        return view[:n], last

    def _locate(self, seq):
        """(segment index, file offset) where the records after `seq` start: where the last
        read stopped if it stopped at `seq`, else found by a scan of the segment."""
        if seq == self._cursor_seq and self._cursor_number in self._numbers:
            return self._numbers.index(self._cursor_number), self._cursor_offset
        index = self._segment_for(seq)
        scan = self._scan(self._numbers[index])
        for buf, pos in scan:
            if logrec.seq_at(buf, pos) > seq:
                scan.close()
                return index, self._base + pos
        return index + 1, 0

    def info(self):
        """Figures for the protocol's `log.info`."""
        if self._closed_bytes < 0:
            self._closed_bytes = 0
            for number in self._numbers[:-1]:
                self._closed_bytes += os.stat(self._path(number))[6]
        return {
            "first": self.first_seq,
            "last": self.last_seq,
            "bytes": self._closed_bytes + self._active_size,
            "budget": self.budget,
            "segments": len(self._numbers),
        }


def _resync(view, pos, end, eof):
    """Where, from `pos` on, the bytes read so far (view[:end]) hold a record that checks
    out, or a record the read may have cut short (unless `eof`: the bytes end where the
    file does); `end` when neither."""
    while pos < end:
        if logrec.valid_size(view, pos, end):
            return pos
        if not eof and (end - pos < logrec.OVERHEAD or pos + view[pos] > end):
            return pos
        pos += 1
    return end


def _read_into(f, view, n):
    """Read the file on into view[n:]: (where the bytes read end, whether the read reached
    the end of the file)."""
    got = f.readinto(view[n:]) or 0
    return n + got, got < len(view) - n


def _whole_records(view, pos, end, max_bytes):
    """Walk the valid records from `pos` on within view[:end] and `max_bytes` (the first
    record of the reply always fits): (where the walk stopped, where its last record starts
    or -1, the size of the valid record that stopped it for max_bytes or 0)."""
    newest = -1
    while True:
        size = logrec.valid_size(view, pos, end)
        if not size or (pos and pos + size > max_bytes):
            return pos, newest, size
        newest = pos
        pos += size
