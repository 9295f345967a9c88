"""The serial link: reads request lines from USB serial without blocking, writes frames.

Bytes are read one at a time while `select.poll` says more are waiting, into a line buffer
allocated once. Over-long lines are discarded up to their newline and reported, so garbage
can neither grow the heap nor stall the other tasks. Ctrl-C is not seen here: the USB stack
(or the sim's pseudo-terminal) turns it into KeyboardInterrupt, so mpremote can always
reach the REPL.
"""

import asyncio
import select

from dispenser import protocol


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

    async def readline(self):
        """The next complete line as bytes, or None for a line that was too long."""
        chunk = await self._reader.read(1)
        while True:
            line = self._take(chunk)
            if line is not False:
                return line
            if not chunk:  # end of input (only off-target): don't spin
                await asyncio.sleep_ms(100)
                chunk = await self._reader.read(1)
            elif not self._poll.poll(0):
                chunk = await self._reader.read(1)
            else:
                chunk = self._in.read(1)

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
        self._out.write(protocol.encode(frame_id, verb, payload))
        self._out.write("\n")
