"""dispenser.core.forecast: when a compartment runs out and how a day went, the one answer the
device's status and MQTT state and the host's status and report all give.

bone-health: breakfast 07:30 (calcium), lunch 12:30 (D3 + K2), dinner 18:30 (calcium).
"""

from coretools import DAY, at, bone_health_obj, fresh_engine, parse

from dispenser.core import forecast, logrec
from dispenser.core.localtime import weekday
from dispenser.core.logrec import id_key
from dispenser.core.windows import occurs_on

CA = 2


def _walk_day_by_day(engine, hopper, today):
    """The plain reading of the rule, one day at a time: the first day whose dose the
    stock cannot cover; today's doses the engine resolved are not due again."""
    comp = engine.schedule.comp_for_hopper(hopper)
    left = engine.stock[hopper]
    for day in range(today, today + forecast.HORIZON_DAYS):
        for dose in engine.schedule.doses:
            if dose.comp is not comp or not occurs_on(dose, day, weekday(day)):
                continue
            if day == today and dose.key in engine.resolved:
                continue
            if left < dose.pills:
                return day
            left -= dose.pills
    return None


class _Lcg:
    """A seeded generator that gives the same numbers under CPython and MicroPython (whose
    `random` has no Random class)."""

    def __init__(self, seed):
        self.x = seed

    def randint(self, low, high):
        self.x = (self.x * 1103515245 + 12345) & 0x7FFFFFFF
        return low + (self.x >> 8) % (high - low + 1)


def _random_schedule(rng):
    obj = bone_health_obj()
    obj["caps"]["ca"] = 1000  # room for two calcium pills per dose
    for dose in obj["doses"]:
        dose["days"] = rng.randint(1, 127)
        if dose["comp"] == "ca":
            dose["pills"] = rng.randint(1, 2)
        if rng.randint(0, 2) == 0:
            dose["from"] = DAY + rng.randint(-5, 60)
        if rng.randint(0, 2) == 0:
            dose["to"] = max(dose.get("from", 0), DAY + rng.randint(-5, 90))
    return parse(obj)


def test_run_out_agrees_with_a_day_by_day_walk_over_weekdays_ranges_and_today():
    rng = _Lcg(16)
    for _ in range(150):
        engine = fresh_engine(_random_schedule(rng))
        s = engine.schedule
        for hopper in range(3):
            engine.refill(at(s, DAY, 300), hopper, rng.randint(0, 80))
        # Some of today's doses already dispensed or missed.
        for dose in s.doses:
            if rng.randint(0, 1):
                engine.apply(at(s, DAY, 600), logrec.MISSED, (dose.key,))
        for hopper in range(3):
            expected = _walk_day_by_day(engine, hopper, DAY)
            assert forecast.run_out_day(engine, hopper, DAY) == expected, (hopper, s.doses)


def test_run_out_counts_todays_doses_still_to_come_and_not_those_taken():
    engine = fresh_engine()
    s = engine.schedule
    engine.refill(at(s, DAY, 300), CA, 3)
    # Two calcium doses a day: today's two and tomorrow's breakfast, then none for dinner.
    assert forecast.run_out_day(engine, CA, DAY) == DAY + 1
    engine.press(at(s, DAY, 450))  # breakfast dispensed: 2 left, and it is not due again
    assert forecast.run_out_day(engine, CA, DAY) == DAY + 1
    assert forecast.date_text(DAY) == "2026-12-04"


def test_run_out_is_none_without_stock_or_a_day_or_for_a_long_time():
    engine = fresh_engine()
    s = engine.schedule
    assert forecast.run_out_day(engine, CA, DAY) is None  # stock unknown (no refill)
    engine.refill(at(s, DAY, 300), CA, 900)  # 450 days at two a day
    assert forecast.run_out_day(engine, CA, DAY) is None
    engine.refill(at(s, DAY, 301), CA, 1)
    assert forecast.run_out_day(engine, CA, -1) is None  # the clock unknown
    assert forecast.today_counts(engine, -1) == [0, 0, 0]
    assert forecast.date_text(None) is None


def test_a_regimen_that_ended_never_runs_out():
    obj = bone_health_obj()
    for dose in obj["doses"]:
        dose["to"] = DAY + 2
    engine = fresh_engine(parse(obj))
    engine.refill(at(engine.schedule, DAY, 300), CA, 6)  # exactly three days' worth
    assert forecast.run_out_day(engine, CA, DAY) is None
    engine.refill(at(engine.schedule, DAY, 301), CA, 5)
    assert forecast.run_out_day(engine, CA, DAY) == DAY + 2


def test_today_counts_refusals_and_leaves_open_windows_out():
    engine = fresh_engine()
    s = engine.schedule
    engine.refill(at(s, DAY, 300), CA, 0)
    engine.refill(at(s, DAY, 300), 0, 10)
    engine.refill(at(s, DAY, 300), 1, 10)
    engine.press(at(s, DAY, 450))  # calcium empty: breakfast refused, its window still open
    assert forecast.today_counts(engine, DAY) == [0, 0, 0]  # refused, but it may still drop
    engine.press(at(s, DAY, 760))  # lunch: D3 and K2 taken
    engine.tick(at(s, DAY, 18 * 60))  # breakfast's window closed: refused, not missed
    assert forecast.today_counts(engine, DAY) == [2, 1, 0]
    engine.tick(at(s, DAY, 21 * 60))  # dinner missed (no press; not refused)
    taken, refused, missed = forecast.today_counts(engine, DAY)
    assert (taken, refused, missed) == (2, 1, 1)
    assert forecast.percent(taken, taken + refused + missed) == 50
    assert forecast.today_counts(engine, DAY + 1) == [0, 0, 0]  # not reached yet


def test_a_window_closed_before_the_install_is_not_counted():
    engine = fresh_engine()
    s = engine.schedule
    engine.install(at(s, DAY, 13 * 60), s)  # breakfast closed at 09:00: never due
    assert forecast.outcome(engine.resolved[id_key("ca-breakfast")], False, True) is None
    engine.tick(at(s, DAY, 21 * 60))
    assert forecast.today_counts(engine, DAY) == [0, 0, 3]


def test_outcome_and_percent():
    assert forecast.outcome(None, False, False) == forecast.PENDING
    assert forecast.outcome(None, True, False) == forecast.PENDING  # may still be taken
    assert forecast.outcome(None, False, True) == forecast.MISSED  # the device was off
    assert forecast.outcome(None, True, True) == forecast.REFUSED
    assert [forecast.percent(t, c) for t, c in ((2, 3), (1, 8), (0, 0), (3, 3))] == [
        67,
        13,
        None,
        100,
    ]
