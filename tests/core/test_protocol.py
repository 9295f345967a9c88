"""Frame encoding and decoding against the shared example frames (tests/data/frames.json).

The same file is read by the host tests, so device and host agree on every frame.
"""

import json

from dispenser.core import protocol

_FRAMES_PATH = __file__.rsplit("/", 2)[0] + "/data/frames.json"


def _frames():
    with open(_FRAMES_PATH) as f:
        return json.load(f)


def test_valid_frames_decode():
    for case in _frames()["valid"]:
        assert protocol.decode(case["line"]) == (case["id"], case["verb"], case["payload"])


def test_lines_that_are_not_frames_are_skipped():
    for line in _frames()["not_frames"]:
        assert protocol.decode(line) is None


def test_invalid_frames_raise_their_error_code():
    for case in _frames()["invalid"]:
        try:
            protocol.decode(case["line"])
        except protocol.FrameError as exc:
            assert exc.args[0] == case["code"], case["why"] + ": got " + exc.args[0]
        else:
            raise AssertionError("accepted: " + case["why"])


def test_encode_then_decode_round_trips():
    payload = {"t": 1795000000, "list": [1, 2, 3], "text": 'caf\u00e9 "quoted"'}
    line = protocol.encode(123, "time.set", payload)
    assert "\n" not in line
    assert protocol.decode(line) == (123, "time.set", payload)


def test_names_travel_as_utf8_and_both_sides_encode_them_alike():
    # The shared frame with a name in UTF-8 (an emoji among it), as the device sends it: the
    # host's encode must give the same bytes, not JSON escapes MicroPython decodes wrongly.
    (case,) = [c for c in _frames()["valid"] if c["id"] == 12]
    assert "\U0001f9b4" in case["line"]
    assert protocol.encode(case["id"], case["verb"], case["payload"]) == case["line"]


def test_every_single_character_corruption_is_detected():
    line = protocol.encode(8, "hello", {"a": 1})
    for i in range(len(line)):
        damaged = line[:i] + ("#" if line[i] != "#" else "%") + line[i + 1 :]
        try:
            result = protocol.decode(damaged)
        except protocol.FrameError:
            continue
        assert result is None, "corruption at %d accepted" % i


class _Stream:
    """A serial port's write: keeps what was written, str or bytes, as text."""

    def __init__(self):
        self.parts = []

    def write(self, data):
        self.parts.append(data if isinstance(data, str) else bytes(data).decode())

    def text(self):
        return "".join(self.parts)


def test_write_sends_the_frame_encode_makes():
    payload = {"t": 1795000000, "list": [1, 2, 3], "text": 'caf\u00e9 "quoted"'}
    out = _Stream()
    protocol.write(out, 5, "ok", payload)
    assert out.text() == protocol.encode(5, "ok", payload) + "\n"


def test_write_puts_bytes_into_the_frame_as_a_json_string():
    # log.read's reply: base64 as bytes, written as they are, after the other members
    for payload in ({"b64": b"AAEC/w==", "last": 12, "more": True}, {"b64": b""}):
        expected = dict(payload)
        expected["b64"] = payload["b64"].decode()
        out = _Stream()
        protocol.write(out, 9, "ok", payload)
        line = out.text()
        assert line.endswith("\n") and line.count("\n") == 1
        assert protocol.decode(line[:-1]) == (9, "ok", expected)
