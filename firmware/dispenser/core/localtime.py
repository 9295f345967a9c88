"""Local calendar arithmetic from a schedule's UTC offset table (no timezone database).

The table is `[[utc_epoch_s, offset_min], ...]`, sorted; an offset is in force from its
entry's time until the next entry, and before the first entry the first offset applies
(the compiler starts the table at the compile day, so earlier times only occur with a
wrong clock, which the engine treats separately).
"""

from dispenser.compat import const

DAY_S = const(86400)
MINUTE_S = const(60)
# A clock before this (2024-01-01) has never been set: the RP2040's RTC restarts at
# 2021-01-01. The engine, the boards' clocks and the time.set command all use this one line.
MIN_VALID_TIME = const(1704067200)
# 1970-01-01 was a Thursday; with Monday = 0 that is weekday 3.
_EPOCH_WEEKDAY = const(3)


def offset_min(table, t):
    """UTC offset (minutes east) in force at UTC time `t`."""
    chosen = table[0][1]
    for entry in table:
        if entry[0] > t:
            break
        chosen = entry[1]
    return chosen


# Epoch seconds are above 2^30, so on a 32-bit port (a Pico) every one is a heap object, and
# every sum or product that yields one allocates. t // DAY_S and t % DAY_S are small, so the
# functions below split t that way instead of adding the offset to t itself.


def local_day(table, t):
    """Local day number (days since 1970-01-01 in local time) at UTC time `t`."""
    return t // DAY_S + (t % DAY_S + offset_min(table, t) * MINUTE_S) // DAY_S


def minutes_into(table, day, t):
    """Minutes from the start of local `day` to UTC time `t` (may pass 1440), small ints."""
    seconds = (t // DAY_S - day) * DAY_S + t % DAY_S + offset_min(table, t) * MINUTE_S
    return seconds // MINUTE_S


def weekday(day):
    """Weekday of a local day number, Monday = 0 ... Sunday = 6 (the schedule's bit order)."""
    return (day + _EPOCH_WEEKDAY) % 7


def to_utc(table, day, minute):
    """UTC time of local `minute` (0..1440) on local `day`.

    Two rounds of lookup settle the offset on either side of a DST change; a local time that
    does not exist (spring-forward gap) maps to the moment just after the change.
    """
    local = day * DAY_S + minute * MINUTE_S
    t = local - offset_min(table, local) * MINUTE_S
    return local - offset_min(table, t) * MINUTE_S


def civil_from_days(day):
    """(year, month 1..12, day 1..31) of a day number (H. Hinnant's algorithm, proleptic
    Gregorian); used where a clock chip or a report needs calendar fields."""
    z = day + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if month <= 2 else 0), month, doy - (153 * mp + 2) // 5 + 1


def days_from_civil(year, month, mday):
    """Day number of a calendar date (inverse of civil_from_days)."""
    year -= 1 if month <= 2 else 0
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + mday - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468
