"""Spacing on actual intake times, in the direction calcium -> medicine: calcium dispensed
late holds a reminder-only medicine's reminder back until the label's gap has passed.

bone-health plus a ciprofloxacin reminder at 14:45 (window 14:45-15:45), which its label
wants 6 h after calcium (CA-QUIN `wait` 360). Breakfast's calcium window is 07:00-09:00.
"""

from coretools import (
    DAY,
    as_records,
    at,
    bone_health_obj,
    fresh_engine,
    kinds,
    levo_spacing_obj,
    parse,
)

from dispenser.core import checkpoint, logrec, windows
from dispenser.core import engine as eng
from dispenser.core.logrec import id_key

CIPRO = id_key("cipro")
CIPRO_SLOT = id_key("t1445")


def _cipro_schedule(wait=360):
    obj = bone_health_obj()
    obj["slots"].insert(2, {"at": 885, "early": 0, "fat": 0, "id": "t1445", "late": 60, "meal": 0})
    obj["items"] = [
        {"days": 127, "id": "cipro", "med": "ciprofloxacin", "name": "Cipro", "slot": "t1445"}
    ]
    spacing = {"gap": 120, "item": "cipro", "nut": "ca", "rule": "CA-QUIN"}
    if wait is not None:
        spacing["wait"] = wait
    obj["spacing"] = [spacing]
    return parse(obj)


def _reminders(events):
    return [ev[2] for ev in events if ev[1] == logrec.REMIND]


def test_calcium_taken_late_moves_the_items_reminder_until_the_gap_has_passed():
    e = fresh_engine(_cipro_schedule())
    s = e.schedule
    e.press(at(s, DAY, 535))  # breakfast calcium at 08:55: ciprofloxacin not before 14:55
    assert _reminders(e.tick(at(s, DAY, 885))) == []  # not reminded at 14:45
    assert e.indication(at(s, DAY, 885)).status != eng.STATUS_DUE
    assert e.next_wake(at(s, DAY, 885)) == at(s, DAY, 895)
    assert _reminders(e.tick(at(s, DAY, 895))) == [(CIPRO_SLOT, 1)]
    assert e.indication(at(s, DAY, 895)).status == eng.STATUS_DUE
    pending = {p[0]: p for p in e.pending(at(s, DAY, 890))}
    # the window stretches to the hold's end plus the slot's late minutes
    assert pending["cipro"][3:] == (at(s, DAY, 895), at(s, DAY, 955))


def test_status_says_which_intake_holds_the_reminder():
    e = fresh_engine(_cipro_schedule())
    s = e.schedule
    e.press(at(s, DAY, 535))
    assert e.holds(at(s, DAY, 890)) == [("cipro", at(s, DAY, 895), "ca-breakfast", at(s, DAY, 535))]


def test_a_press_inside_the_hold_is_refused_and_the_item_stays_open():
    e = fresh_engine(_cipro_schedule())
    s = e.schedule
    e.press(at(s, DAY, 535))
    events = e.press(at(s, DAY, 890))  # 14:50: the slot's window, but 5 h 55 after calcium
    assert [(ev[1], ev[2]) for ev in events if ev[1] != logrec.MISSED] == [
        (logrec.REFUSED, (CIPRO, logrec.REASON_SPACING))
    ]
    assert e.indication(at(s, DAY, 890)).status == eng.STATUS_REFUSED
    assert logrec.CONFIRM in kinds(e.press(at(s, DAY, 896)))  # (after its reminder starts)
    assert "cipro" not in [p[0] for p in e.pending(at(s, DAY, 897))]


def test_the_held_item_is_missed_only_at_its_stretched_close():
    e = fresh_engine(_cipro_schedule())
    s = e.schedule
    e.press(at(s, DAY, 535))
    e.tick(at(s, DAY, 880))  # lunch's D3 and K2 are missed at 14:30
    assert logrec.MISSED not in kinds(e.tick(at(s, DAY, 950)))  # the normal close is 15:45
    missed = [ev for ev in e.tick(at(s, DAY, 956)) if ev[1] == logrec.MISSED]
    assert [(m[0], m[2]) for m in missed] == [(at(s, DAY, 955), (CIPRO,))]


def test_calcium_taken_early_enough_leaves_the_reminder_where_it_was():
    e = fresh_engine(_cipro_schedule())
    s = e.schedule
    e.press(at(s, DAY, 480))  # 08:00: 6 h before is 14:00, before the slot opens
    assert _reminders(e.tick(at(s, DAY, 885))) == [(CIPRO_SLOT, 1)]
    assert e.holds(at(s, DAY, 886)) == []


def test_without_a_wait_the_reminder_is_not_held():
    # a device schedule from before `wait` (or CA-BISPHOS, whose label sets none)
    e = fresh_engine(_cipro_schedule(wait=None))
    s = e.schedule
    e.press(at(s, DAY, 535))
    assert _reminders(e.tick(at(s, DAY, 885))) == [(CIPRO_SLOT, 1)]


def test_the_hold_survives_a_restart_and_a_checkpoint():
    e = fresh_engine(_cipro_schedule())
    s = e.schedule
    log = e.press(at(s, DAY, 535))
    for records in (as_records(log), [(1, at(s, DAY, 536), logrec.CHECKPOINT, e.checkpoint())]):
        again = eng.Engine(s)
        again.restore(records)
        again.clock_known = True
        assert _reminders(again.tick(at(s, DAY, 885))) == []
        assert again.next_wake(at(s, DAY, 885)) == at(s, DAY, 895)


def test_a_dose_a_rule_waits_on_counts_against_the_checkpoint_budget():
    s = _cipro_schedule()
    assert [d.id for d in windows.waited_doses(s)] == ["ca-breakfast", "ca-dinner"]
    e = fresh_engine(s)
    e.press(at(s, DAY, 535))
    assert (id_key("ca-breakfast"), at(s, DAY, 535)) in checkpoint.unpack(e.checkpoint())[4]


def test_status_names_the_confirmation_that_holds_calcium_too():
    # the direction the device already held: calcium after a late levothyroxine
    s = parse(levo_spacing_obj())
    e = fresh_engine(s)
    e.press(at(s, DAY, 385))  # levothyroxine confirmed at 06:25: calcium not before 10:25
    assert e.holds(at(s, DAY, 450)) == [("ca-breakfast", at(s, DAY, 625), "levo", at(s, DAY, 385))]
