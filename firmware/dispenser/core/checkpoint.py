"""The engine's summary in a CHECKPOINT record (docs/log-format.md): what replay needs to
rebuild the Engine's state from the newest checkpoint on, after the log's rotation dropped
older segments.

Plain functions over explicit arguments: encode() reads the state the Engine owns; decode()
returns the state, which Engine.apply assigns (the only place its state changes).
"""

from dispenser.compat import const
from dispenser.core import logrec
from dispenser.core.nutrients import D_WEEK_CEILING

# In a checkpoint's resolved list, this bit marks an entry refused earlier that day
# (Engine.refusals); the rest of the byte is its resolution (0: still open).
_REFUSED_BIT = const(0x10)


def encode(day, stock, flags, totals, past_d, schedule_hash, state, keys):
    """Fields of a CHECKPOINT record. `state`: the day's (confirms, resolved, refusals,
    reminded, snoozed) dicts; `keys`: the current schedule's (timed, entry, slot) keys.
    Those entries always fit (the schedule check bounds them with
    logrec.checkpoint_worst_size); entries left by an earlier schedule of the same day
    follow while there is room, so switching back to it keeps their lockout if it can."""
    confirms, verdicts, refusals, reminded, snoozed = state
    timed_keys, entry_keys, slot_keys = keys
    week = tuple((i + 1, min(past_d[i], 0xFFFF)) for i in range(logrec.WEEK_ENTRIES) if past_d[i])
    room = logrec.MAX_RECORD - logrec.CHECKPOINT_FIXED - 3 * len(week)
    if refusals:  # one entry per key either way, so the size bound holds
        verdicts = dict(verdicts)
        for key in refusals:
            verdicts[key] = verdicts.get(key, 0) | _REFUSED_BIT
    parts = (
        (confirms, timed_keys, 6),
        (verdicts, entry_keys, 3),
        (reminded, slot_keys, 3),
        (snoozed, slot_keys, 6),
    )
    out = ([], [], [], [])
    for foreign in (False, True):
        for i in range(4):
            held, current, size = parts[i]
            for key in held:
                if (key not in current) == foreign and (not foreign or room >= size):
                    out[i].append((key, held[key]))
                    room -= size
    return (
        max(day, 0),
        tuple(stock),
        flags,
        tuple(totals),
        tuple(out[0]),
        tuple(out[1]),
        tuple(out[2]),
        tuple(out[3]),
        week,
        schedule_hash,
    )


def decode(fields):
    """(day, stock, low flags, jam flags, totals, confirms, resolved, refusals, reminded,
    snoozed, past_d, schedule hash) from a CHECKPOINT record's fields."""
    day, stock, flags, totals, confirms, verdicts, reminded, snoozed = fields[:8]
    low_flags, jam_flags = logrec.unpack_flags(flags)
    resolved = {}
    refusals = {}
    for key, how in verdicts:
        if how & _REFUSED_BIT:
            refusals[key] = 0  # a checkpoint keeps that it was refused, not why
            how &= ~_REFUSED_BIT
        if how:
            resolved[key] = how
    past_d = [0] * logrec.WEEK_ENTRIES
    for ago, total in fields[8]:
        # a saturated entry stands for at least that much: count the whole ceiling
        past_d[ago - 1] = D_WEEK_CEILING if total == 0xFFFF else total
    return (
        day,
        list(stock),
        low_flags,
        jam_flags,
        list(totals),
        dict(confirms),
        resolved,
        refusals,
        dict(reminded),
        dict(snoozed),
        past_d,
        fields[9],
    )
