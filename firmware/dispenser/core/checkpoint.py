"""The CHECKPOINT record (docs/log-format.md, "Checkpoint payload"): the engine's summary
that replay starts from once the log's rotation dropped older segments, and its payload's
layout. dispenser.core.logrec frames the payload as it is, bytes it does not read.

Plain functions over explicit arguments: encode() reads the state the Engine owns; decode()
returns the state, which Engine.apply assigns (through _restore_checkpoint: apply is the
only way its state changes).

Needed only to replay the log (boot) and when a rotation starts a segment, so the device
keeps this module resident only then (dispenser.controller.CHECKPOINT_CODE).
"""

import struct

from dispenser.compat import const

# D_WEEK_CEILING through caps, which is resident: from nutrients, loading this module at a
# rotation would bring the schedule check's nutrient tables back into RAM for good.
from dispenser.core.caps import D_WEEK_CEILING, PAST_DAYS
from dispenser.core.logrec import MAX_RECORD, OVERHEAD

# In a checkpoint's resolved list, this bit marks an entry refused earlier that day
# (Engine.refusals); the rest of the byte is its resolution (0: still open).
_REFUSED_BIT = const(0x10)

_HEAD = "<H3HB4I"  # day, stock x3, flags, totals x4
_HEAD_SIZE = const(25)
# The variable part: (entry format, entry size) of each list, written as a u8 count then
# the entries: confirms (key, UTC time taken), resolved (key, how), reminded (slot key,
# highest level logged), snoozed (slot key, UTC end), week (days ago 1..6, vitamin D given
# that day; 65535: that much or more).
_LISTS = (("<HI", 6), ("<HB", 3), ("<HB", 3), ("<HI", 6), ("<BH", 3))
_WEEK = const(4)  # the week's index in _LISTS
# Bytes of a whole record without its list entries: the record's overhead (logrec), the
# head, the five counts and the trailing schedule hash prefix.
_FIXED = const(48)


def worst_size(timed, entries, slots):
    """The largest checkpoint record a schedule with `timed` entries whose intake time is
    kept (reminder-only items, and doses a spacing rule waits on), `entries` doses + items
    and `slots` slots in use can need: every timed entry taken, every entry resolved, every
    slot reminded and snoozed. The schedule check keeps it <= logrec.MAX_RECORD."""
    return _FIXED + 3 * PAST_DAYS + 6 * timed + 3 * entries + 9 * slots


def pack_flags(low, jam):
    """The checkpoint's flags: the low-stock hopper bits, the jammed ones above them."""
    return low | jam << 4


def unpack_flags(flags):
    """(low-stock hopper bits, jammed hopper bits) of a checkpoint's flags."""
    return flags & 0x0F, flags >> 4


def pack(fields):
    """The payload of a CHECKPOINT record with these fields: (day, stock x3, flags, totals
    x4, confirms, resolved, reminded, snoozed, week, schedule hash prefix)."""
    size = _FIXED - OVERHEAD
    for i in range(len(_LISTS)):
        size += _LISTS[i][1] * len(fields[4 + i])
    buf = bytearray(size)
    day, stock, flags, totals = fields[0], fields[1], fields[2], fields[3]
    struct.pack_into(_HEAD, buf, 0, day, stock[0], stock[1], stock[2], flags,
                     totals[0], totals[1], totals[2], totals[3])  # fmt: skip
    pos = _HEAD_SIZE
    for i in range(len(_LISTS)):
        fmt, entry_size = _LISTS[i]
        entries = fields[4 + i]
        buf[pos] = len(entries)
        pos += 1
        for a, b in entries:
            struct.pack_into(fmt, buf, pos, a, b)
            pos += entry_size
    struct.pack_into("<I", buf, pos, fields[9])
    return buf


def unpack(payload):
    """The fields pack() took, from a CHECKPOINT record's payload; ValueError if it does
    not hold them."""
    end = len(payload)
    if end < _HEAD_SIZE:
        raise ValueError("checkpoint length")
    head = struct.unpack_from(_HEAD, payload, 0)
    pos = _HEAD_SIZE
    lists = []
    for i in range(len(_LISTS)):
        if i == _WEEK and pos == end:
            lists.append(())  # written before checkpoints carried the 7-day window
            break
        fmt, entry_size = _LISTS[i]
        entries = []
        count = payload[pos] if pos < end else -1
        pos += 1
        if count < 0 or pos + count * entry_size > end:
            raise ValueError("checkpoint length")
        for _ in range(count):
            entries.append(struct.unpack_from(fmt, payload, pos))
            pos += entry_size
        lists.append(tuple(entries))
    # A trailing u32 (the active schedule's hash prefix) came with the 7-day window: 0 when
    # absent.
    schedule = 0
    if end - pos == 4:
        schedule = struct.unpack_from("<I", payload, pos)[0]
    elif pos != end:
        raise ValueError("checkpoint length")
    confirms, resolved, reminded, snoozed, week = lists
    return (head[0], head[1:4], head[4], head[5:9], confirms, resolved, reminded, snoozed, week,
            schedule)  # fmt: skip


def encode(day, stock, low_flags, jam_flags, totals, past_d, schedule_hash, state, keys):
    """The payload of a CHECKPOINT record. `state`: the day's (confirms, resolved,
    refusals, reminded, snoozed) dicts; `keys`: the current schedule's (timed, entry, slot)
    keys. Those entries always fit (the schedule check bounds them with worst_size);
    entries left by an earlier schedule of the same day follow while there is room, so
    switching back to it keeps their lockout if it can."""
    confirms, verdicts, refusals, reminded, snoozed = state
    timed_keys, entry_keys, slot_keys = keys
    week = tuple((i + 1, min(past_d[i], 0xFFFF)) for i in range(PAST_DAYS) if past_d[i])
    room = MAX_RECORD - _FIXED - 3 * len(week)
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
    return pack(
        (
            max(day, 0),
            stock,
            pack_flags(low_flags, jam_flags),
            totals,
            out[0],
            out[1],
            out[2],
            out[3],
            week,
            schedule_hash,
        )
    )


def decode(payload):
    """(day, stock, low flags, jam flags, totals, confirms, resolved, refusals, reminded,
    snoozed, past_d, schedule hash) from a CHECKPOINT record's payload; ValueError if it
    holds no checkpoint."""
    fields = unpack(payload)
    day, stock, flags, totals, confirms, verdicts, reminded, snoozed = fields[:8]
    low_flags, jam_flags = unpack_flags(flags)
    resolved = {}
    refusals = {}
    for key, how in verdicts:
        if how & _REFUSED_BIT:
            refusals[key] = 0  # a checkpoint keeps that it was refused, not why
            how &= ~_REFUSED_BIT
        if how:
            resolved[key] = how
    past_d = [0] * PAST_DAYS
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
