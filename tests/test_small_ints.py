"""Per-wake and per-record arithmetic stays in small integers (issue 8 item 11).

On a Pico, MicroPython's small ints are 31-bit: epoch seconds (above 2^30) are heap objects,
and every operation that yields a new one allocates. The 64-bit unix port cannot show that
(its small ints reach 2^62), so this CPython test traces it instead:

- epoch inputs (the clock's `now`, record times, the schedule's UTC table) are `Epoch`
  ints, whose arithmetic reports every result of 2^30 or more, with the function doing it;
- a tracer looks at every local and return value in the firmware's frames and reports
  any int of 2^30 or more that did not exist before the step (by identity).

The engine's day plan (once per local day) may create epoch values; a wake on a planned day
creates exactly one: the wake time next_wake returns.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "core"))

from coretools import DAY, at, fresh_engine, levo_spacing_obj, parse  # noqa: E402

from dispenser.core import logrec  # noqa: E402

SMALL = 1 << 30
FIRMWARE = str(ROOT / "firmware")


class Epoch(int):
    created: list[str] = []

    def _result(self, value, op):
        if abs(value) >= SMALL:
            frame = sys._getframe(2)
            Epoch.created.append(f"{frame.f_code.co_name}: {op}")
            return Epoch(value)
        return int(value)


def _op(name):
    def method(self, *args):
        return self._result(getattr(int, name)(int(self), *[int(a) for a in args]), name)

    return method


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__floordiv__", "__rfloordiv__", "__mod__", "__neg__", "__lshift__",
              "__rshift__", "__and__", "__or__"):  # fmt: skip
    setattr(Epoch, _name, _op(_name))


def _big_ids(value, seen, depth=0):
    if isinstance(value, int) and abs(value) >= SMALL:
        seen.add(id(value))
    elif depth < 6 and isinstance(value, (list, tuple)):
        for item in value:
            _big_ids(item, seen, depth + 1)
    elif depth < 6 and isinstance(value, dict):
        for k, v in value.items():
            _big_ids(k, seen, depth + 1)
            _big_ids(v, seen, depth + 1)
    elif depth < 6 and hasattr(value, "__dict__") and not isinstance(value, type):
        for v in vars(value).values():
            _big_ids(v, seen, depth + 1)
    return seen


def new_big_ints(step, *existing):
    """Run step(); the epoch-sized ints it created: Epoch arithmetic plus any new big int
    held in a firmware frame's locals or returned by a firmware function."""
    known = set()
    for value in existing:
        _big_ids(value, known)
    found = []

    def tracer(frame, event, arg):
        if not frame.f_code.co_filename.startswith(FIRMWARE):
            return None
        values = list(frame.f_locals.items())
        if event == "return":
            values.append(("return", arg))
        for name, value in values:
            # Epoch results are reported by their arithmetic already
            fresh = type(value) is int and abs(value) >= SMALL and id(value) not in known
            if fresh:
                known.add(id(value))
                found.append(f"{frame.f_code.co_name}: {name}")
        return tracer

    Epoch.created = []
    sys.settrace(tracer)
    try:
        result = step()
    finally:
        sys.settrace(None)
    return result, Epoch.created + found


def _spaced_engine():
    """bone-health plus a morning levothyroxine reminder that holds the calcium back."""
    s = parse(levo_spacing_obj())
    s.utc = [(Epoch(t), offset) for t, offset in s.utc]
    return fresh_engine(s)


def _wake(engine, now):
    events = engine.tick(now)
    engine.indication(now)
    return events, engine.next_wake(now)


def test_a_wake_creates_no_epoch_integer_but_the_wake_time():
    e = _spaced_engine()
    s = e.schedule
    e.press(Epoch(at(s, DAY, 362)))  # levo confirmed: the breakfast calcium is held back
    _wake(e, Epoch(at(s, DAY, 400)))  # plans the day
    for minute in (420, 455, 470, 480, 600, 610, 700, 760):
        now = Epoch(at(s, DAY, minute))
        (events, wake), created = new_big_ints(lambda now=now: _wake(e, now), e, now)
        assert wake > now
        assert created == ["next_wake: __add__"], (minute, created)


def test_a_press_and_its_records_create_no_epoch_integer():
    e = _spaced_engine()
    s = e.schedule
    _wake(e, Epoch(at(s, DAY, 740)))
    now = Epoch(at(s, DAY, 760))
    _wake(e, now)
    events, created = new_big_ints(lambda: e.press(now), e, now)
    assert logrec.DISPENSE in [ev[1] for ev in events]
    assert created == []
    buf = bytearray(logrec.MAX_RECORD)

    def encode_and_decode():
        out = []
        for seq, (t, kind, fields) in enumerate(events, 1):
            n = logrec.encode_into(buf, seq, t, kind, fields)
            out.append(logrec.decode_at(buf, 0, n))
        return out

    decoded, created = new_big_ints(encode_and_decode, e, now, events)
    assert [r[1:] for r in decoded] == events
    # Decoding reads each record's time from its bytes (the record's own data); encoding
    # computes its CRC. The check of a record's CRC makes none: the CRC over the record and
    # its stored CRC is a small constant (logrec.valid_size).
    per_record = {"decode_valid: t", "decode_valid: return", "decode_at: return", "crc32: return"}
    assert set(created) <= per_record, created
    checks, created = new_big_ints(
        lambda: [logrec.valid_size(memoryview(buf), 0, len(buf)) for _ in events], e, now
    )
    assert all(checks) and created == []
