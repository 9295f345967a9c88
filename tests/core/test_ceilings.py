"""The firmware's ceilings, which no schedule and no confirmed override lifts: the schedule
check refuses a schedule that plans past one, and the engine refuses a dose that would pass
one, with the 7-day vitamin D window kept across schedule changes, restarts and checkpoints.
"""

from coretools import DAY, as_records, at, bone_health_obj, dispensed_keys, parse

from dispenser.core import engine as eng
from dispenser.core import logrec, nutrients, schedule
from dispenser.core.logrec import id_key

D3_LUNCH = id_key("d3-lunch")
SIGNED = [{"rule": "D3-UL", "by": "Dr. A", "why": "deficiency"}]


def _code(obj):
    try:
        parse(obj)
    except schedule.ScheduleError as exc:
        return exc.code
    return None


def _d3(per, days=127, cap=None):
    obj = bone_health_obj()
    obj["comp"][0]["per"] = per
    obj["doses"][1]["days"] = days
    obj["caps"]["vitd"] = per if cap is None else cap
    obj["ovr"] = SIGNED
    return obj


def test_the_check_refuses_plans_past_a_ceiling_even_with_overrides():
    assert _code(_d3(10000)) is None  # 70,000 IU a week: at the ceiling
    assert _code(_d3(10001)) == schedule.E_WEEK_CEILING  # 70,007 IU a week
    assert _code(_d3(50000, days=1)) is None  # the 50,000 IU once-a-week regimen
    assert _code(_d3(50001, days=1)) == schedule.E_DOSE_CEILING  # one dose over 50,000 IU
    obj = bone_health_obj()
    obj["caps"]["ca"] = nutrients.CEILINGS[1] + 1
    obj["ovr"] = [{"rule": "CA-UL", "by": "Dr. A", "why": "test"}]
    assert _code(obj) == schedule.E_CEILING
    obj["caps"]["ca"] = nutrients.CEILINGS[1]
    assert _code(obj) is None


def _engine(obj, records=()):
    e = eng.Engine(parse(obj))
    e.restore(records)
    e.clock_known = True
    return e


def _lunch(e, day):
    return e.press(at(e.schedule, day, 760))


def test_the_engine_keeps_the_7_day_window_across_a_schedule_change():
    e = _engine(_d3(10000))
    log = []
    for day in range(DAY, DAY + 6):
        events = _lunch(e, day)
        assert dispensed_keys(events) == [D3_LUNCH, id_key("k2-lunch")]
        log += events
    # A new schedule, each week within the ceiling on its own, would give 20,000 IU today:
    # 60,000 IU in the last six days + 20,000 IU is over 70,000 IU in 7 days.
    bigger = parse(_d3(20000, days=0b0001000))  # Thursdays; DAY + 6 is a Thursday
    switch = at(e.schedule, DAY + 6, 600)
    e.install(switch, bigger)
    events = _lunch(e, DAY + 6)
    assert (D3_LUNCH, logrec.REASON_CEILING) in [ev[2] for ev in events if ev[1] == logrec.REFUSED]
    assert D3_LUNCH not in dispensed_keys(events)
    assert D3_LUNCH in dispensed_keys(_lunch(e, DAY + 13))  # a week on, the window moved
    # after a power cut the window is rebuilt from the log alone
    again = _engine(_d3(10000), as_records(log))
    again.install(switch, bigger)
    assert D3_LUNCH not in dispensed_keys(_lunch(again, DAY + 6))


def test_the_window_survives_a_checkpoint():
    e = _engine(_d3(10000))
    for day in range(DAY, DAY + 6):
        _lunch(e, day)
    checkpoint = e.checkpoint()
    data = logrec.encode(1, at(e.schedule, DAY + 5, 800), logrec.CHECKPOINT, checkpoint)
    record = logrec.decode_at(data, 0, len(data))
    again = eng.Engine(parse(_d3(20000, days=0b0001000)))
    again.restore([record])
    again.clock_known = True
    assert again.past_d == e.past_d
    assert D3_LUNCH not in dispensed_keys(_lunch(again, DAY + 6))
