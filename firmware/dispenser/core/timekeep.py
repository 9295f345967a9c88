"""The time across resets without a DS3231, in the watchdog's scratch words 0-1.

The rp2 port restarts its RTC at 2021-01-01T00:00:00Z at every hard reset (watchdog,
machine.reset(), power-on). The scratch words survive every reset but a power loss. The app
saves the time there at each watchdog feed (every second), and before each reset it makes
itself; at boot, when the RTC reads invalid, the clock is set to the saved time plus the
seconds the RTC has counted since the reset. Docs: docs/supervision.md, "The time across resets".

The restored time is behind, never ahead: by the age of the last save (under 1 s, or up to
the watchdog period, 8.3 s, after a hung event loop or a soft reset that left the watchdog
running) plus under 1 s of RTC rounding. After a power loss the scratch words are zero and
the time stays unknown, as before.

Contract: `scratch.read(i)` / `scratch.write(i, value)` for 32-bit words i = 0..3 (or None
on a board without them); the clock's `counter()` gives its raw seconds, valid or not.
"""

from dispenser.compat import const

RTC_RESET_EPOCH = const(1609459200)  # 2021-01-01T00:00:00Z, where the rp2 RTC restarts
# Seconds since RTC_RESET_EPOCH stay under 2^30 (until 2055): small integers on a Pico, so
# saving the time each second allocates nothing.
_TIME_WORD = const(0)
_CHECK_WORD = const(1)
_CHECK = const(0x15A5C3E1)  # a zeroed (power-on) or stale pair never checks out
_MAX_COUNTED_S = const(86400)  # an RTC that counted longer than this was not just reset


def save(scratch, now):
    """Keep `now` (UTC epoch seconds, or None: nothing to keep) in the scratch words."""
    if scratch is None or now is None:
        return
    since = now - RTC_RESET_EPOCH
    scratch.write(_TIME_WORD, since)
    scratch.write(_CHECK_WORD, since ^ _CHECK)


def saved(scratch):
    """The time last saved, or None (power loss, never saved, no scratch words)."""
    if scratch is None:
        return None
    since = scratch.read(_TIME_WORD)
    if since == 0 or scratch.read(_CHECK_WORD) != since ^ _CHECK:
        return None
    return since + RTC_RESET_EPOCH


def restore(clock, scratch):
    """At boot: if the clock is invalid and counts from the RTC's reset epoch, set it to the
    saved time plus what it counted since. Returns the restored time, or None."""
    if clock.is_set():
        return None
    base = saved(scratch)
    counter = clock.counter()
    if base is None or counter is None:
        return None
    counted = counter - RTC_RESET_EPOCH
    if not 0 <= counted < _MAX_COUNTED_S:
        return None
    clock.set(base + counted)
    return base + counted
