"""The log never runs ahead and never drops what the lockout rests on (issue 8 items 4, 7, 8).

Runs under CPython and the MicroPython unix port alike.
"""

from coretools import (
    DAY,
    at,
    bone_health_obj,
    fresh_engine,
    levo_spacing_obj,
    parse,
    remove_tree,
    temp_dir,
)

from dispenser import logstore
from dispenser.core import checkpoint, logrec, schedule
from dispenser.core.engine import Engine
from dispenser.logstore import LogStore


def _big_schedule(n_slots):
    """32 doses and 8 reminder-only items spread over `n_slots` slots (the issue's case:
    one slot each, 40 slots)."""
    obj = bone_health_obj()
    obj["slots"] = [
        {"at": 20 + 35 * i, "early": 5, "late": 5, "fat": 0, "id": "s%d" % i, "meal": 0}
        for i in range(n_slots)
    ]
    comps = ["d3", "k2", "ca"]
    obj["doses"] = [
        {"comp": comps[i % 3], "days": 127, "id": "dose%d" % i, "pills": 1,
         "slot": "s%d" % (i % n_slots)}
        for i in range(32)
    ]  # fmt: skip
    obj["items"] = [
        {"days": 127, "id": "item%d" % i, "med": "m", "name": "n",
         "slot": "s%d" % ((32 + i) % n_slots)}
        for i in range(8)
    ]  # fmt: skip
    return obj


def _parse_error(obj):
    """(code, values) of the refusal, or None."""
    try:
        parse(obj)
    except schedule.ScheduleError as exc:
        return exc.code, exc.values
    return None


# ----- item 4: a checkpoint always fits its record ---------------------------------------


def test_a_schedule_whose_checkpoint_cannot_fit_is_refused():
    code, (size, most) = _parse_error(_big_schedule(40))
    assert code == schedule.E_CHECKPOINT and size > most == logrec.MAX_RECORD


def test_the_largest_accepted_schedule_checkpoints_its_worst_day_within_a_record():
    obj = _big_schedule(2)
    assert _parse_error(obj) is None, _parse_error(obj)
    assert _parse_error(_big_schedule(3))[0] == schedule.E_CHECKPOINT
    s = parse(obj)
    e = fresh_engine(s)
    t = at(s, DAY, 100)
    # Left over from an earlier schedule of the same day: many more keys than fit.
    for key in range(60000, 60100):
        e.apply(t, logrec.DISPENSE, (key, 0, 1, 1))
        e.apply(t, logrec.CONFIRM, (key,))
    for item in s.items:
        e.apply(t, logrec.CONFIRM, (item.key,))
    for dose in s.doses:
        e.apply(t, logrec.DISPENSE, (dose.key, dose.comp.hopper | dose.comp.nut << 4, 1, 1))
    for key in s.slot_keys:
        e.apply(t, logrec.REMIND, (key, 3))
        e.apply(t, logrec.SNOOZE, (key,))
    e.past_d = [1000] * 6  # vitamin D on each of the six days before: a full 7-day window
    cp = e.checkpoint()
    assert len(checkpoint.unpack(cp)[8]) == 6
    data = logrec.encode(1, t, logrec.CHECKPOINT, cp)
    assert len(data) <= logrec.MAX_RECORD
    again = Engine(s)
    again.restore([(1, t, logrec.CHECKPOINT, cp)])
    for entry in s.doses + s.items:  # the current schedule's lockout is all there
        assert again.resolved[entry.key] == 1
    assert again.reminded == e.reminded and again.snoozed == e.snoozed
    assert sorted(item.key for item in s.items) == sorted(
        k for k in again.confirms if k < 60000 or k >= 60100
    )


def test_a_new_day_drops_confirmations_that_can_hold_nothing_back():
    s = parse(levo_spacing_obj())
    e = fresh_engine(s)
    levo = logrec.id_key("levo")
    e.apply(at(s, DAY, 1430), logrec.CONFIRM, (levo,))
    e.tick(at(s, DAY + 1, 10))
    assert levo in e.confirms  # a late confirmation still holds the next morning's calcium
    e.tick(at(s, DAY + 2, 10))
    assert levo not in e.confirms


# ----- item 7: no rotation without an engine drops the day's lockout ---------------------


def test_rotation_without_an_engine_keeps_the_newest_checkpoint_and_after():
    root = temp_dir()
    try:
        e = fresh_engine()
        s = e.schedule
        store = LogStore(root, budget=1024, segments=4, snapshot=e.checkpoint)
        for i in range(40):  # rotations with checkpoints, before the press
            store.append(at(s, DAY, 700) + i, logrec.BOOT, (0,))
        for t, kind, fields in e.press(at(s, DAY, 760)):
            store.append(t, kind, fields)
        # schedule.json rejected at every boot from now on: no engine, no snapshot
        for i in range(60):
            store = LogStore(root, budget=1024, segments=4)
            store.append(at(s, DAY, 800) + i, logrec.BOOT, (0,))
            store.append(at(s, DAY, 800) + i, logrec.ERROR, (logrec.ERR_SCHEDULE_REJECTED, 4))
        assert 4 < store.info()["segments"] <= 16  # above the budget, the lockout kept
        rebuilt = Engine(s)
        rebuilt.restore(LogStore(root).replay_records())
        rebuilt.clock_known = True
        assert rebuilt.resolved == e.resolved
        assert [ev for ev in rebuilt.press(at(s, DAY, 801)) if ev[1] == logrec.DISPENSE] == []
        # Records two days old hold no current lockout: then the log shrinks to its budget.
        for i in range(20):
            store = LogStore(root, budget=1024, segments=4)
            store.append(at(s, DAY + 3, 800) + i, logrec.BOOT, (0,))
        assert store.info()["segments"] == 4
    finally:
        remove_tree(root)


# ----- item 8: reads start at the right place, boot replays from the newest checkpoint ---


def _year_like_log(root, records):
    e = fresh_engine()
    store = LogStore(root, budget=4096, segments=4, snapshot=e.checkpoint)
    for i in range(records):
        store.append(1796000000 + i, logrec.REFILL, (i % 3, i % 100))
    return store


class _Counter:
    """Counts the calls of one logrec function while installed."""

    def __init__(self, name):
        self.name = name
        self.calls = 0
        self.real = getattr(logrec, name)

    def __call__(self, *args):
        self.calls += 1
        return self.real(*args)


def test_a_sequential_pull_costs_the_same_per_request_from_start_to_end():
    root = temp_dir()
    checks = _Counter("valid_size")
    decodes = _Counter("decode_valid")
    try:
        store = _year_like_log(root, 220)  # 4 segments of about 1 KB
        first = store.info()["first"]
        logrec.valid_size = checks
        logrec.decode_valid = decodes
        since = first - 1
        costs = []
        while since < store.last_seq:
            checks.calls = 0
            data, since = store.read_since(since, 120)
            costs.append(checks.calls)
            assert data
        # about 7 records per request: checking them (and the one that does not fit) only
        assert max(costs) <= 12, costs
        reopened = LogStore(root)  # no cursor
        checks.calls = 0
        data, last = reopened.read_since(store.last_seq - 3, 1000)
        assert decodes.calls == 0  # a read checks records (length, CRC), it decodes none
        assert checks.calls <= 70  # the newest segment's records, not all four
        assert last == store.last_seq and len(list(logrec.scan(data))) == 3
    finally:
        logrec.valid_size = checks.real
        logrec.decode_valid = decodes.real
        remove_tree(root)


class _CountingOs:
    """The `os` module the log store sees, counting its stat calls."""

    def __init__(self, real):
        self.real = real
        self.stats = 0

    def stat(self, path):
        self.stats += 1
        return self.real.stat(path)

    def __getattr__(self, name):
        return getattr(self.real, name)


class _CountingOpen:
    """The `open` the log store sees, counting the files it opens."""

    def __init__(self):
        self.opened = []

    def __call__(self, path, mode="r"):
        self.opened.append(path)
        return open(path, mode)


def test_a_boot_opens_only_the_segments_it_replays_and_status_stats_no_file():
    root = temp_dir()
    try:
        e = fresh_engine()
        store = LogStore(root, budget=4096, segments=16, snapshot=e.checkpoint)
        for i in range(400):
            store.append(1796000000 + i, logrec.REFILL, (i % 3, i % 100))
        assert store.info()["segments"] == 16
        opens = _CountingOpen()
        logstore.open = opens  # the module's own global shadows the builtin
        reopened = LogStore(root)
        replayed = list(reopened.replay_records())
        assert replayed[-1][0] == store.last_seq
        # the newest segment only (its first record, then the replay): it has a checkpoint
        assert len(opens.opened) == 2 and opens.opened[0] == opens.opened[1], opens.opened
        counting = _CountingOs(logstore.os)
        logstore.os = counting
        first = reopened.info()
        counting.stats = 0
        assert reopened.info() == first and counting.stats == 0  # sizes kept, not stat'ed
        reopened.append(1796001000, logrec.BOOT, (0,))
        assert reopened.info()["bytes"] == first["bytes"] + logrec.OVERHEAD + 1
        assert counting.stats == 0
    finally:
        logstore.open = open
        del logstore.open
        if isinstance(logstore.os, _CountingOs):
            logstore.os = logstore.os.real
        remove_tree(root)


def test_boot_replays_from_the_newest_checkpoint_only():
    root = temp_dir()
    try:
        store = _year_like_log(root, 220)
        replayed = list(LogStore(root).replay_records())
        assert replayed[0][2] == logrec.CHECKPOINT
        assert replayed[-1][0] == store.last_seq
        assert len(replayed) < 80  # one segment, not four
    finally:
        remove_tree(root)
