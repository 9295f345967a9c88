"""Fakes of a board's parts for the supervision and driver tests: scratch words, a clock, a
watchdog, a PWM (runs under CPython and MicroPython alike; imports no firmware module)."""

T0 = 1795651200  # 2026-11-26T00:00:00Z


class FakePwm:
    """freq(hz), duty_ns(ns), duty_u16(v): records every call."""

    def __init__(self):
        self.calls = []

    def freq(self, hz):
        self.calls.append(("freq", hz))

    def duty_ns(self, ns):
        self.calls.append(("ns", ns))

    def duty_u16(self, v):
        self.calls.append(("u16", v))


class FakeScratch:
    def __init__(self):
        self.words = [0, 0, 0, 0]

    def read(self, i):
        return self.words[i]

    def write(self, i, value):
        self.words[i] = value & 0xFFFFFFFF


class FakeClock:
    """A clock whose counter can sit before MIN_VALID_TIME, as an RTC after a reset."""

    def __init__(self, counter):
        self.value = counter

    def counter(self):
        return self.value

    def now(self):
        return self.value if self.value is not None and self.value >= 1704067200 else None

    def is_set(self):
        return self.now() is not None

    def set(self, t):
        self.value = t


class FakeWatchdog:
    def __init__(self):
        self.feeds = 0

    def feed(self):
        self.feeds += 1


class FakeBoard:
    """board.reset() only counts: a real one never returns, here the test goes on."""

    def __init__(self):
        self.scratch = FakeScratch()
        self.clock = FakeClock(T0)
        self.watchdog = FakeWatchdog()
        self.armed = []  # task names whose next fault_point raises
        self.resets = 0

    def start_watchdog(self, timeout_ms):
        return self.watchdog

    def fault_point(self, name):
        if name in self.armed:
            self.armed.remove(name)
            raise RuntimeError("injected fault: " + name)

    def reset(self):
        self.resets += 1


class Recorder:
    """log_error for the Supervisor: records (code, detail), or raises like a broken log."""

    def __init__(self, fails=False):
        self.errors = []
        self.fails = fails

    def __call__(self, code, detail):
        if self.fails:
            raise OSError(5)  # EIO: the flash write failed
        self.errors.append((code, detail))
