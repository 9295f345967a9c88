"""The dose state machine against the safety invariants of DESIGN.md.

Times are built with `at(sched, day, minute)`. bone-health: breakfast 07:30 (window
07:00-09:00, calcium), lunch 12:30 (12:00-14:30, D3 + K2), dinner 18:30 (18:00-20:30, calcium).
"""

from coretools import (
    DAY,
    as_records,
    at,
    bone_health_obj,
    dispensed_keys,
    fresh_engine,
    kinds,
    parse,
)

from dispenser.core import engine as eng
from dispenser.core import logrec
from dispenser.core.logrec import id_key

CA_BREAKFAST = id_key("ca-breakfast")
D3_LUNCH = id_key("d3-lunch")
K2_LUNCH = id_key("k2-lunch")
CA_DINNER = id_key("ca-dinner")


def _restart(engine, log):
    """A power cut: a new engine rebuilt only from what was logged."""
    again = eng.Engine(engine.schedule)
    again.restore(as_records(log))
    again.clock_known = True
    return again


def test_short_press_in_window_dispenses_everything_due_for_the_slot():
    e = fresh_engine()
    events = e.press(at(e.schedule, DAY, 760))
    assert dispensed_keys(events) == [D3_LUNCH, K2_LUNCH]
    fields = [ev[2] for ev in events if ev[1] == logrec.DISPENSE]
    assert fields[0] == (D3_LUNCH, 0 | 0 << 4, 1, 2000)
    assert fields[1] == (K2_LUNCH, 1 | 2 << 4, 1, 100)


def test_press_accepted_from_early_to_late_edge():
    e = fresh_engine()
    assert dispensed_keys(e.press(at(e.schedule, DAY, 420))) == [CA_BREAKFAST]
    e = fresh_engine()
    assert dispensed_keys(e.press(at(e.schedule, DAY, 540))) == [CA_BREAKFAST]


def test_press_outside_any_window_dispenses_nothing_and_says_so():
    e = fresh_engine()
    t = at(e.schedule, DAY, 600)
    assert dispensed_keys(e.press(t)) == []
    assert e.indication(t).status == eng.STATUS_NOTHING_DUE
    assert e.indication(t + eng.FLASH_S).status == eng.STATUS_IDLE


def test_second_press_never_dispenses_again():
    e = fresh_engine()
    t = at(e.schedule, DAY, 760)
    assert len(dispensed_keys(e.press(t))) == 2
    assert dispensed_keys(e.press(t + 60)) == []
    assert e.indication(t + 61).status == eng.STATUS_NOTHING_DUE


def test_lockout_survives_a_restart():
    e = fresh_engine()
    t = at(e.schedule, DAY, 760)
    log = e.press(t)
    e = _restart(e, log)
    assert dispensed_keys(e.press(t + 30)) == []


def test_nothing_is_dispensed_before_the_log_is_replayed():
    e = eng.Engine(fresh_engine().schedule)
    e.clock_known = True
    t = at(e.schedule, DAY, 760)
    assert e.press(t) == [] and e.tick(t) == []
    assert e.indication(t).status == eng.STATUS_ERROR


def test_unknown_clock_dispenses_nothing_and_shows_time_unknown():
    e = fresh_engine()
    e.clock_known = False
    t = at(e.schedule, DAY, 760)
    assert e.press(t) == [] and e.tick(t) == []
    assert e.indication(t).status == eng.STATUS_TIME_UNKNOWN
    assert e.next_wake(t) is None
    events = e.clock_set(t, 0)
    assert kinds(events) == [logrec.CLOCK_SET]
    assert len(dispensed_keys(e.press(t))) == 2


def test_clock_before_2024_counts_as_unknown():
    e = fresh_engine()
    assert e.press(1609459200) == []  # 2021-01-01, the Pico's reset time
    assert e.indication(1609459200).status == eng.STATUS_TIME_UNKNOWN


def test_missed_dose_is_logged_at_window_close_and_never_added_later():
    e = fresh_engine()
    events = e.tick(at(e.schedule, DAY, 871))
    missed = [ev for ev in events if ev[1] == logrec.MISSED]
    assert [m[2][0] for m in missed] == [CA_BREAKFAST, D3_LUNCH, K2_LUNCH]
    assert missed[1][0] == at(e.schedule, DAY, 870)
    assert dispensed_keys(e.press(at(e.schedule, DAY, 1100))) == [CA_DINNER]
    assert dispensed_keys(e.press(at(e.schedule, DAY, 1102))) == []


def test_missed_is_logged_once_even_across_a_restart():
    e = fresh_engine()
    log = e.tick(at(e.schedule, DAY, 600))
    e = _restart(e, log)
    assert kinds(e.tick(at(e.schedule, DAY, 601))) == []


def test_days_offline_close_the_old_day_as_missed():
    e = fresh_engine()
    log = e.press(at(e.schedule, DAY, 450))
    e = _restart(e, log)
    events = e.tick(at(e.schedule, DAY + 3, 300))
    assert [ev[2][0] for ev in events if ev[1] == logrec.MISSED] == [D3_LUNCH, K2_LUNCH, CA_DINNER]


def test_clock_stepped_back_to_an_earlier_day_reopens_nothing():
    e = fresh_engine()
    e.press(at(e.schedule, DAY + 1, 450))
    assert dispensed_keys(e.press(at(e.schedule, DAY, 760))) == []
    assert e.tick(at(e.schedule, DAY, 800)) == []


def test_next_day_doses_are_due_again():
    e = fresh_engine()
    e.press(at(e.schedule, DAY, 760))
    assert len(dispensed_keys(e.press(at(e.schedule, DAY + 1, 760)))) == 2


def test_daily_cap_refuses_the_excess_and_logs_it():
    obj = bone_health_obj()
    obj["doses"].append(
        {"comp": "d3", "days": 127, "id": "d3-dinner", "pills": 1, "slot": "dinner"}
    )
    e = fresh_engine(parse(obj))
    e.press(at(e.schedule, DAY, 760))
    events = e.press(at(e.schedule, DAY, 1110))
    assert dispensed_keys(events) == [CA_DINNER]
    assert (id_key("d3-dinner"), logrec.REASON_CAP) in [ev[2] for ev in events]
    assert e.totals[0] == 2000
    assert e.indication(at(e.schedule, DAY, 1110)).status == eng.STATUS_REFUSED


def test_daily_cap_holds_across_a_restart():
    obj = bone_health_obj()
    obj["doses"].append(
        {"comp": "d3", "days": 127, "id": "d3-dinner", "pills": 1, "slot": "dinner"}
    )
    e = fresh_engine(parse(obj))
    log = e.press(at(e.schedule, DAY, 760))
    e = _restart(e, log)
    assert dispensed_keys(e.press(at(e.schedule, DAY, 1110))) == [CA_DINNER]


def test_weekday_mask_and_day_range():
    obj = bone_health_obj()
    obj["doses"][1]["days"] = 1 << 0  # D3 on Mondays only; DAY is a Friday
    obj["doses"][2]["from"] = DAY + 1
    e = fresh_engine(parse(obj))
    assert dispensed_keys(e.press(at(e.schedule, DAY, 760))) == []
    assert dispensed_keys(e.press(at(e.schedule, DAY + 3, 760))) == [D3_LUNCH, K2_LUNCH]


def test_reminder_starts_at_slot_time_and_escalates():
    e = fresh_engine()
    s = e.schedule
    e.tick(at(s, DAY, 700))
    assert e.next_wake(at(s, DAY, 700)) == at(s, DAY, 750)
    assert e.indication(at(s, DAY, 740)).status == eng.STATUS_IDLE
    events = e.tick(at(s, DAY, 750))
    assert [ev[2] for ev in events] == [(id_key("lunch"), 1)]
    ind = e.indication(at(s, DAY, 750))
    assert (ind.status, ind.level, ind.due_mask) == (eng.STATUS_DUE, 1, 0b011)
    assert e.next_wake(at(s, DAY, 750)) == at(s, DAY, 760)
    assert e.tick(at(s, DAY, 760)) == []  # level 2 is shown, not logged
    assert e.indication(at(s, DAY, 760)).level == 2
    assert [ev[2] for ev in e.tick(at(s, DAY, 770))] == [(id_key("lunch"), 3)]
    assert e.indication(at(s, DAY, 771)).level == 3


def test_long_press_snoozes_and_the_reminder_restarts():
    e = fresh_engine()
    s = e.schedule
    e.tick(at(s, DAY, 775))
    events = e.press(at(s, DAY, 775), long=True)
    assert kinds(events) == [logrec.SNOOZE]
    assert dispensed_keys(events) == []
    assert e.indication(at(s, DAY, 780)).level == 0
    assert e.next_wake(at(s, DAY, 776)) == at(s, DAY, 785)
    assert e.indication(at(s, DAY, 785)).level == 1
    assert e.indication(at(s, DAY, 795)).level == 2


def test_snooze_survives_a_restart():
    e = fresh_engine()
    s = e.schedule
    log = e.press(at(s, DAY, 760), long=True)
    e = _restart(e, log)
    assert e.indication(at(s, DAY, 765)).level == 0


def _stock_events(events):
    return [ev for ev in events if ev[1] in (logrec.DISPENSE, logrec.LOW, logrec.REFUSED)]


def test_refill_low_stock_once_per_crossing_and_empty_refusal():
    e = fresh_engine()
    s = e.schedule
    events = e.refill(0, 2, 16)  # calcium, low threshold 14; refills need no clock
    assert kinds(events) == [logrec.REFILL]
    e.press(at(s, DAY, 450))
    events = _stock_events(e.press(at(s, DAY, 1110)))
    assert kinds(events) == [logrec.DISPENSE, logrec.LOW]
    assert events[1][2] == (2, 14)
    assert e.indication(at(s, DAY, 1200)).status == eng.STATUS_LOW
    assert kinds(_stock_events(e.press(at(s, DAY + 1, 450)))) == [logrec.DISPENSE]  # no 2nd LOW
    e.refill(0, 2, 0)
    events = e.press(at(s, DAY + 1, 1110))
    assert [ev[2] for ev in events if ev[1] == logrec.REFUSED] == [(CA_DINNER, logrec.REASON_EMPTY)]
    assert e.refill(0, 2, 100) and e.low_flags == 0
    assert dispensed_keys(e.press(at(s, DAY + 1, 1111))) == [CA_DINNER]


def test_unknown_stock_is_allowed_and_never_low():
    e = fresh_engine()
    for day in range(DAY, DAY + 200):
        e.press(at(e.schedule, day, 450))
    assert e.stock[2] == logrec.UNKNOWN_STOCK and e.low_flags == 0


def test_jam_marks_the_hopper_and_blocks_it_until_refill():
    e = fresh_engine()
    s = e.schedule
    e.press(at(s, DAY, 450))
    events = e.jammed(at(s, DAY, 451), CA_BREAKFAST, 2, 0)
    assert kinds(events) == [logrec.JAM]
    assert e.indication(at(s, DAY, 600)).status == eng.STATUS_ERROR
    assert e.indication(at(s, DAY, 600)).jam_mask == 0b100
    events = _stock_events(e.press(at(s, DAY, 1110)))
    assert [ev[2] for ev in events] == [(CA_DINNER, logrec.REASON_JAMMED)]
    assert dispensed_keys(e.press(at(s, DAY, 450))) == []  # the jammed dose counts as given
    e.refill(at(s, DAY, 1112), 2, 50)
    assert dispensed_keys(e.press(at(s, DAY, 1113))) == [CA_DINNER]


def _levo_schedule():
    obj = bone_health_obj()
    obj["slots"].insert(0, {"at": 360, "early": 0, "fat": 0, "id": "levo", "late": 30, "meal": 0})
    obj["items"] = [
        {"days": 127, "id": "levo", "med": "levothyroxine", "name": "L", "slot": "levo"}
    ]
    obj["spacing"] = [{"gap": 240, "item": "levo", "nut": "ca", "rule": "CA-LEVO"}]
    return parse(obj)


def test_item_confirmation_is_logged_with_the_actual_time():
    e = fresh_engine(_levo_schedule())
    events = e.press(at(e.schedule, DAY, 370))
    assert (logrec.CONFIRM, (id_key("levo"),)) in [(ev[1], ev[2]) for ev in events]
    assert e.confirms[id_key("levo")] == at(e.schedule, DAY, 370)


def test_spacing_holds_the_dose_then_reminds_it_never_skips_it():
    e = fresh_engine(_levo_schedule())
    s = e.schedule
    e.press(at(s, DAY, 385))  # late levo: calcium must wait until 10:25
    events = _stock_events(e.press(at(s, DAY, 450)))
    assert [ev[2] for ev in events] == [(CA_BREAKFAST, logrec.REASON_SPACING)]
    assert e.indication(at(s, DAY, 460)).due_mask == 0  # not reminded while held
    assert e.tick(at(s, DAY, 545)) == []  # not missed at the normal close (09:00)
    assert e.next_wake(at(s, DAY, 545)) == at(s, DAY, 625)
    assert [ev[2] for ev in e.tick(at(s, DAY, 625))] == [(id_key("breakfast"), 1)]
    assert e.indication(at(s, DAY, 625)).due_mask == 0b100
    assert dispensed_keys(e.press(at(s, DAY, 700))) == [CA_BREAKFAST]


def test_held_dose_is_missed_at_the_extended_close_not_before():
    e = fresh_engine(_levo_schedule())
    s = e.schedule
    e.press(at(s, DAY, 385))
    assert logrec.MISSED not in kinds(e.tick(at(s, DAY, 715)))
    missed = [ev for ev in e.tick(at(s, DAY, 716)) if ev[1] == logrec.MISSED]
    assert [m[2][0] for m in missed] == [CA_BREAKFAST] and missed[0][0] == at(s, DAY, 715)


def test_schedule_change_keeps_the_days_lockout():
    e = fresh_engine()
    e.press(at(e.schedule, DAY, 760))
    obj = bone_health_obj()
    obj["name"] = "renamed"
    events = e.install(at(e.schedule, DAY, 761), parse(obj))
    assert kinds(events) == [logrec.SCHEDULE]
    assert dispensed_keys(e.press(at(e.schedule, DAY, 762))) == []


def test_checkpoint_replaces_history_and_duplicates_are_harmless():
    e = fresh_engine()
    s = e.schedule
    e.refill(0, 0, 30)
    log = e.press(at(s, DAY, 760))
    cp = e.checkpoint()
    again = eng.Engine(s)
    # a checkpoint, then the very events it already contains (rotation between appends)
    again.restore([(1, at(s, DAY, 760), logrec.CHECKPOINT, cp)] + as_records(log, 2))
    assert again.totals == e.totals and again.stock == e.stock
    assert again.resolved == e.resolved
    again.clock_known = True
    assert dispensed_keys(again.press(at(s, DAY, 761))) == []


def test_a_checkpoint_keeps_the_days_reminders_and_snoozes():
    # Rotation writes a checkpoint; a restart that replays only it must neither log the
    # reminder start again nor forget a snooze.
    e = fresh_engine()
    s = e.schedule
    log = e.tick(at(s, DAY, 752))  # lunch reminder started
    log += e.press(at(s, DAY, 753), long=True)  # snoozed for 10 minutes
    again = eng.Engine(s)
    again.restore([(1, at(s, DAY, 753), logrec.CHECKPOINT, e.checkpoint())])
    again.clock_known = True
    assert again.reminded == e.reminded and again.snoozed == e.snoozed
    assert logrec.REMIND not in kinds(again.tick(at(s, DAY, 755)))
    assert again.indication(at(s, DAY, 755)).level == 0  # still snoozed


def test_next_wake_is_in_the_future_and_reaches_tomorrow():
    e = fresh_engine()
    s = e.schedule
    t = at(s, DAY, 1300)
    e.tick(t)
    assert e.next_wake(t) == at(s, DAY + 1, 0)


def test_pending_lists_todays_open_entries_for_status():
    e = fresh_engine()
    s = e.schedule
    e.press(at(s, DAY, 450))
    pending = e.pending(at(s, DAY, 451))
    assert [p[0] for p in pending] == ["d3-lunch", "k2-lunch", "ca-dinner"]
    assert pending[0][1:] == ("lunch", at(s, DAY, 720), at(s, DAY, 750), at(s, DAY, 870))


def test_doses_whose_window_closed_before_the_install_are_not_missed():
    # Installed at 19:00: breakfast and lunch were never due that day; dinner still was.
    e = fresh_engine()
    install_t = at(e.schedule, DAY, 19 * 60)
    log = e.install(install_t, e.schedule)
    log += e.tick(at(e.schedule, DAY + 1, 6 * 60))  # the next morning
    assert [ev[2][0] for ev in log if ev[1] == logrec.MISSED] == [CA_DINNER]
    # A restart replays the install record to the same verdict.
    again = eng.Engine(e.schedule)
    again.restore(as_records(log[:1]))
    again.clock_known = True
    replayed = again.tick(at(e.schedule, DAY + 1, 6 * 60))
    assert [ev[2][0] for ev in replayed if ev[1] == logrec.MISSED] == [CA_DINNER]


def _missed_keys(events):
    return [ev[2][0] for ev in events if ev[1] == logrec.MISSED]


def test_doses_whose_window_closed_before_the_clock_was_known_are_not_missed():
    # Pushed with an unknown clock, synced at 20:38: breakfast, lunch and dinner closed
    # before anyone could be reminded, so none of them is missed, then or after a restart.
    e = fresh_engine()
    e.clock_known = False
    s = e.schedule
    log = e.install(0, s)  # an unknown clock logs time 0
    log += e.clock_set(at(s, DAY, 20 * 60 + 38), 0)
    log += e.tick(at(s, DAY, 20 * 60 + 38))
    log += e.tick(at(s, DAY + 1, 6 * 60))  # the next morning
    assert _missed_keys(log) == []
    again = _restart(e, log)
    assert _missed_keys(again.tick(at(s, DAY + 1, 6 * 60 + 1))) == []
    # The next day's doses are due as always.
    assert _missed_keys(e.tick(at(s, DAY + 1, 9 * 60 + 1))) == [CA_BREAKFAST]


def test_a_clock_synced_while_known_excuses_nothing():
    e = fresh_engine()
    s = e.schedule
    log = e.clock_set(at(s, DAY, 20 * 60 + 38), at(s, DAY, 20 * 60 + 30))
    log += e.tick(at(s, DAY, 20 * 60 + 38))
    assert _missed_keys(log) == [CA_BREAKFAST, D3_LUNCH, K2_LUNCH, CA_DINNER]


def test_a_clock_lost_overnight_excuses_what_closed_meanwhile_on_both_days():
    # Breakfast taken, then the clock was lost at 17:00 (a power cut without a DS3231) and
    # set again the next day at 13:00: yesterday's dinner and today's breakfast closed
    # while the device could not know; today's lunch is still due.
    e = fresh_engine()
    s = e.schedule
    log = e.press(at(s, DAY, 450))
    log += e.tick(at(s, DAY, 17 * 60))  # lunch missed, with the clock still known
    assert _missed_keys(log) == [D3_LUNCH, K2_LUNCH]
    ended = []
    again = eng.Engine(s, on_day_end=lambda engine: ended.append(dict(engine.resolved)))
    again.restore(as_records(log), clock_known=False)
    later = again.clock_set(at(s, DAY + 1, 13 * 60), 0)
    later += again.tick(at(s, DAY + 1, 13 * 60))
    assert _missed_keys(later) == []
    assert ended[-1][CA_DINNER] == eng.NOT_DUE  # what a log reader sees for that day
    assert (again.resolved[CA_BREAKFAST], D3_LUNCH in again.resolved) == (eng.NOT_DUE, False)
    assert len(dispensed_keys(again.press(at(s, DAY + 1, 13 * 60 + 1)))) == 2


def test_refusals_of_the_day_survive_a_checkpoint():
    e = fresh_engine()
    s = e.schedule
    e.refill(at(s, DAY, 400), 2, 0)  # calcium empty: its breakfast dose is refused
    assert logrec.REFUSED in kinds(e.press(at(s, DAY, 450)))
    assert e.refusals == {CA_BREAKFAST: logrec.REASON_EMPTY}
    again = eng.Engine(s)
    again.restore([(1, at(s, DAY, 451), logrec.CHECKPOINT, e.checkpoint())], clock_known=True)
    assert list(again.refusals) == [CA_BREAKFAST] and CA_BREAKFAST not in again.resolved
    again.tick(at(s, DAY, 541))  # window closed: missed, and it was refused
    assert again.resolved[CA_BREAKFAST] == eng.MISSED and CA_BREAKFAST in again.refusals
    assert again.tick(at(s, DAY + 1, 1)) is not None and again.refusals == {}  # a new day


def test_the_day_plan_answers_each_wake_without_allocating():
    # Under the MicroPython unix port (tests/test_core_on_micropython.py) gc.mem_alloc counts
    # heap bytes: asking a planned day for its windows, as every wake does, allocates none
    # (a comprehension in a method that runs at every wake would: its closure cells). CPython
    # has no such counter, and this test only runs the calls there.
    import gc

    engine = fresh_engine()
    now = at(engine.schedule, DAY, 12 * 60 + 35)
    engine.next_wake(now)  # plans the day and fills the window cache
    plan = engine.plan
    counter = getattr(gc, "mem_alloc", None)
    gc.collect()
    if counter is not None:
        gc.disable()
    before = counter() if counter is not None else 0
    plan.go_to(plan.day)
    for i in range(len(plan.today)):
        plan.window(i, engine.confirms)
    used = counter() - before if counter is not None else 0
    gc.enable()
    assert used == 0, used
