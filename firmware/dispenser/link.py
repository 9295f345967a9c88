"""The serial link: reads request lines from USB serial without blocking, writes frames.

Bytes are read one at a time while `select.poll` says more are waiting, into a line buffer
allocated once. Over-long lines are discarded up to their newline and reported, so garbage
can neither grow the heap nor stall the other tasks. A partial line followed by an idle gap
of IDLE_GAP_MS is dropped and reported: a cable pulled in the middle of a request must not
poison the next one (the host also sends a newline before each request). Ctrl-C is not
seen here: the USB stack (or the sim's pseudo-terminal) turns it into KeyboardInterrupt,
so mpremote can always reach the REPL.
"""

import asyncio
import select

from dispenser.compat import const, ticks_diff, ticks_ms
from dispenser.core import protocol
from dispenser.timing import sleep_ms, wait_for_ms

IDLE_GAP_MS = const(2000)  # a request line arrives in one go: a pause this long ends it


class LineLink:
    def __init__(self, instream, outstream, max_line=protocol.MAX_FRAME):
        self._in = instream
        self._out = outstream
        self._reader = asyncio.StreamReader(instream)
        self._poll = select.poll()
        self._poll.register(instream, select.POLLIN)
        self._buf = bytearray(max_line)
        self._len = 0
        self._overflow = False

    async def readline(self, wait_ms):
        """The next complete line as bytes, None for a line that was too long, or False
        when `wait_ms` passed without one (so the caller can check in with its supervisor)."""
        started = ticks_ms()
        while True:
            if self._poll.poll(0):
                chunk = self._in.read(1)
            else:
                partial = self._len or self._overflow
                left = wait_ms - ticks_diff(ticks_ms(), started)
                if not partial and left <= 0:
                    return False
                chunk = await self._next_byte(IDLE_GAP_MS if partial else left)
                if chunk is None:
                    if partial:
                        self._drop_partial()
                    continue
            if not chunk:  # end of input (only off-target): don't spin
                await sleep_ms(100)
                continue
            line = self._take(chunk)
            if line is not False:
                return line

    async def _next_byte(self, within_ms):
        """One byte, b"" at end of input, or None when none came within `within_ms`."""
        try:
            return await wait_for_ms(self._reader.read(1), within_ms)
        except asyncio.TimeoutError:
            return None

    def _drop_partial(self):
        self._len = 0
        self._overflow = False
        self.send(0, "err", {"code": protocol.E_FRAME, "msg": "partial line dropped after a pause"})

    def _take(self, chunk):
        """Feed bytes; returns the finished line, None for an over-long one, False if unfinished."""
        for byte in chunk:
            if byte == 10:  # newline ends a line
                if self._overflow:
                    self._overflow = False
                    self._len = 0
                    return None
                end = self._len
                if end and self._buf[end - 1] == 13:  # tolerate CRLF senders
                    end -= 1
                self._len = 0
                return bytes(self._buf[:end])
            if self._overflow:
                continue
            if self._len == len(self._buf):
                self._overflow = True
                continue
            self._buf[self._len] = byte
            self._len += 1
        return False

    def send(self, frame_id, verb, payload):
        protocol.write(self._out, frame_id, verb, payload)
