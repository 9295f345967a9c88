"""Local day, weekday and minute from the schedule's UTC offset table, across DST."""

from dispenser.core import localtime

# Offsets like Europe/Berlin's: winter +60, summer +120 from 2027-03-28 01:00 UTC.
TABLE = [(1795651200, 60), (1806195600, 120), (1824944400, 60)]
SPRING = 1806195600


def test_offset_before_first_entry_and_after_changes():
    assert localtime.offset_min(TABLE, 0) == 60
    assert localtime.offset_min(TABLE, SPRING - 1) == 60
    assert localtime.offset_min(TABLE, SPRING) == 120
    assert localtime.offset_min(TABLE, 1824944400 + 10**8) == 60


def test_local_day_changes_at_local_midnight():
    # 2026-12-31 23:30 UTC is already 2027-01-01 00:30 in UTC+1.
    t = 1798759800
    assert localtime.local_day(TABLE, t) == 20819
    assert localtime.minutes_into(TABLE, 20819, t) == 30


def test_weekday_monday_is_zero():
    assert localtime.weekday(0) == 3  # 1970-01-01, a Thursday
    assert localtime.weekday(20819) == 4  # 2027-01-01, a Friday


def test_to_utc_round_trips_on_both_sides_of_dst():
    for day in (20810, 20904, 20905, 20906):
        for minute in (0, 450, 750, 1439):
            t = localtime.to_utc(TABLE, day, minute)
            assert localtime.local_day(TABLE, t) == day
            assert localtime.minutes_into(TABLE, day, t) == minute


def test_nonexistent_local_time_maps_after_the_change():
    # 2027-03-28 02:30 local does not exist (clocks jump 02:00 -> 03:00).
    t = localtime.to_utc(TABLE, 20905, 150)
    assert t >= SPRING
