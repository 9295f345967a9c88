"""A small asyncio MQTT 3.1.1 client that only publishes (QoS 1) and never subscribes.

Why not a library: micropython-umqtt-simple blocks on connect, TLS and every read (the
dispenser's event loop would stall with the broker), and the `micropython-mqtt-async`
package on PyPI (0.7b4) owns the WLAN connection, asserts that TLS is unsupported and is
four times this size. What the dispenser needs is only CONNECT (with a last will),
PUBLISH QoS 1 with its PUBACK, PINGREQ and DISCONNECT, on asyncio streams.

Every network wait is bounded (`timeout_ms`), so a broker that stops answering costs a
timeout, never a stalled loop. Nothing received is acted on: the only packets read are
CONNACK, PUBACK and PINGRESP.
"""

import asyncio
import struct

from dispenser.compat import const

_CONNECT = const(0x10)
_CONNACK = const(0x20)
_PUBLISH_QOS1 = const(0x32)
_PUBACK = const(0x40)
_PINGREQ = const(0xC0)
_PINGRESP = const(0xD0)
_DISCONNECT = const(0xE0)

# CONNACK return codes (MQTT 3.1.1, 3.2.2.3)
REFUSED_NAMES = (
    None,
    "protocol version refused",
    "client id refused",
    "server unavailable",
    "bad user name or password",
    "not authorised",
)


class MQTTError(Exception):
    """The broker refused us (args: CONNACK code, text) or broke the protocol."""


def _varlen(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | 0x80 if n else byte)
        if not n:
            return out


def _field(data):
    return struct.pack("!H", len(data)) + data


def _packet(head, body):
    return bytes([head]) + _varlen(len(body)) + body


class Client:
    def __init__(self, client_id, host, port, user=None, password=None, ssl=None):
        self.client_id = client_id
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.ssl = ssl  # an ssl.SSLContext for TLS, or None
        self.keepalive_s = 60
        self._reader = None
        self._writer = None
        self._pid = 0

    async def connect(self, will_topic, will_payload, timeout_ms):
        """Open the connection and log in; the will is QoS 1 and retained."""
        opening = asyncio.open_connection(self.host, self.port, ssl=self.ssl)
        self._reader, self._writer = await asyncio.wait_for_ms(opening, timeout_ms)
        flags = 0x02 | 0x04 | 0x08 | 0x20  # clean session, will, will QoS 1, will retained
        body = bytearray(_field(b"MQTT") + bytes([4]))
        payload = _field(self.client_id.encode())
        payload += _field(will_topic.encode()) + _field(will_payload.encode())
        if self.user:
            flags |= 0x80
            payload += _field(self.user.encode())
            if self.password:
                flags |= 0x40
                payload += _field(self.password.encode())
        body.append(flags)
        body += struct.pack("!H", self.keepalive_s) + payload
        await self._send(_packet(_CONNECT, body), timeout_ms)
        head, data = await self._read_packet(timeout_ms)
        if head != _CONNACK or len(data) != 2:
            raise MQTTError(0, "no CONNACK")
        if data[1]:
            code = data[1]
            name = REFUSED_NAMES[code] if code < len(REFUSED_NAMES) else "refused"
            raise MQTTError(code, name)

    async def publish(self, topic, payload, retain, timeout_ms):
        """QoS 1: returns once the broker's PUBACK for this message arrived."""
        self._pid = self._pid % 65535 + 1
        pid = self._pid
        body = _field(topic.encode()) + struct.pack("!H", pid) + payload.encode()
        await self._send(_packet(_PUBLISH_QOS1 | (1 if retain else 0), body), timeout_ms)
        while True:
            head, data = await self._read_packet(timeout_ms)
            if head == _PUBACK and len(data) == 2 and struct.unpack("!H", data)[0] == pid:
                return
            # A PINGRESP, or a late PUBACK of an earlier try: not ours, keep waiting.

    async def ping(self, timeout_ms):
        await self._send(bytes([_PINGREQ, 0]), timeout_ms)
        head, _ = await self._read_packet(timeout_ms)
        if head != _PINGRESP:
            raise MQTTError(0, "no PINGRESP")

    async def disconnect(self, timeout_ms):
        """A clean goodbye: the broker then does not publish the will."""
        try:
            await self._send(bytes([_DISCONNECT, 0]), timeout_ms)
        finally:
            self.close()

    def close(self):
        writer = self._writer
        self._reader = self._writer = None
        if writer is not None:
            try:
                writer.close()
            except OSError:
                pass

    async def _send(self, data, timeout_ms):
        writer = self._writer
        if writer is None:
            raise OSError("not connected")
        writer.write(data)
        await asyncio.wait_for_ms(writer.drain(), timeout_ms)

    async def _read_packet(self, timeout_ms):
        return await asyncio.wait_for_ms(self._read(), timeout_ms)

    async def _read(self):
        reader = self._reader
        if reader is None:
            raise OSError("not connected")
        head = (await reader.readexactly(1))[0]
        size = 0
        shift = 0
        while True:
            byte = (await reader.readexactly(1))[0]
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
            if shift > 21:
                raise MQTTError(0, "bad packet length")
        if size > 64:  # we receive only acknowledgements; anything large is not for us
            raise MQTTError(0, "unexpected packet")
        data = await reader.readexactly(size) if size else b""
        return head & 0xF0, data
