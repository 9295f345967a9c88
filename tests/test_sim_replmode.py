"""The relay's idea of which REPL the board is in, from the banners in its output."""

from __future__ import annotations

from pillctl.sim.serialpty import FRIENDLY_BANNER, RAW_BANNER, ReplMode


def test_the_last_banner_seen_wins_even_when_split_across_reads():
    mode = ReplMode()
    assert not mode.raw
    data = b"\r\n" + RAW_BANNER + b"\r\n>"
    for i in range(len(data)):  # one read at a time, split anywhere
        mode.reset()
        mode.feed(data[:i])
        mode.feed(data[i:])
        assert mode.raw, i
    mode.feed(b"OK\x04\x04>" * 100)  # raw REPL traffic without a banner keeps the mode
    assert mode.raw
    mode.feed(b"\r\nMicroPython v1.28\r\n" + FRIENDLY_BANNER[:9])
    mode.feed(FRIENDLY_BANNER[9:] + b"\r\n>>> ")
    assert not mode.raw
    mode.feed(FRIENDLY_BANNER + b"\r\n" + RAW_BANNER)  # both in one read: the later one
    assert mode.raw
