"""Parse and check a device schedule (docs/device-schedule.md) into a compact form.

The device trusts nothing the host sent: it re-checks the hash, the format version, the
structure and the caps against its own absolute caps before a schedule may be installed.
"""

import hashlib
import json
from binascii import hexlify

from dispenser import nutrients
from dispenser.compat import const
from dispenser.logrec import MAX_RECORD, checkpoint_worst_size, id_key

FORMAT_VERSION = const(1)
_HASH_MARK = b',"sha256":"'
_LAST_DAY = const(1 << 30)
MAX_DOSES = const(32)  # a checkpoint must stay under 255 bytes: see _check_checkpoint_fits
MAX_ITEMS = const(8)
MAX_AMOUNT = const(0xFFFF)  # one dose's amount must fit a DISPENSE record

# ScheduleError codes (also logged as the ERROR record's detail)
E_FORMAT = const(1)
E_HASH = const(2)
E_VERSION = const(3)
E_STRUCTURE = const(4)
E_NUTRIENT = const(5)
E_HOPPER = const(6)
E_CAP = const(7)
E_KEY_COLLISION = const(8)


class ScheduleError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def _fail(message, code=E_STRUCTURE):
    raise ScheduleError(code, message)


def verify_hash(data):
    """The schedule's sha256 hex if `data` carries a correct one, else ScheduleError."""
    i = data.rfind(_HASH_MARK)
    if i < 0 or data[i + 75 :] != b'"}':
        _fail("no sha256 member at the end", E_HASH)
    digest = hashlib.sha256(memoryview(data)[:i])  # no copy of the body
    digest.update(b"}")
    hex_digest = hexlify(digest.digest())
    if data[i + 11 : i + 75] != hex_digest:
        _fail("sha256 does not match the content", E_HASH)
    return hex_digest.decode()


def _bounded(value, what, lo, hi):
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        _fail(what + " must be an integer in " + str(lo) + ".." + str(hi))
    return value


def _int(obj, key, lo, hi, default=None):
    return _bounded(obj.get(key, default), key, lo, hi)


def _str(obj, key, max_len):
    value = obj.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= max_len:
        _fail(key + " must be a string of 1.." + str(max_len) + " chars")
    return value


def _list(obj, key):
    value = obj.get(key)
    if not isinstance(value, list):
        _fail(key + " must be a list")
    return value


def _index_of(ids, name, what):
    for i in range(len(ids)):
        if ids[i] == name:
            return i
    _fail("unknown " + what + " " + str(name))


def _unique_keys(names):
    keys = [id_key(n) for n in names]
    for i in range(len(keys)):
        if names.count(names[i]) > 1:
            _fail("duplicate id " + names[i])
        if keys.count(keys[i]) > 1:
            _fail("ids hash to the same log key; rename " + names[i], E_KEY_COLLISION)
    return keys


class Compartment:
    def __init__(self, obj, hopper_seen):
        self.id = _str(obj, "id", 12)
        self.hopper = _int(obj, "hopper", 0, 2)
        if hopper_seen[self.hopper]:
            _fail("hopper " + str(self.hopper) + " used twice", E_HOPPER)
        hopper_seen[self.hopper] = True
        self.nut = nutrients.nutrient_code(obj.get("nut"))
        if self.nut < 0:
            _fail("unknown nutrient " + str(obj.get("nut")), E_NUTRIENT)
        if nutrients.FORMS.get(obj.get("form"), -1) != self.nut:
            _fail("form " + str(obj.get("form")) + " does not carry " + obj["nut"], E_NUTRIENT)
        self.per = _int(obj, "per", 1, MAX_AMOUNT)
        self.capacity = _int(obj, "cap", 1, 1000)
        self.low = _int(obj, "low", 0, self.capacity)


class Slot:
    def __init__(self, obj):
        self.id = _str(obj, "id", 32)
        self.at = _int(obj, "at", 0, 1439)
        self.opens = self.at - _int(obj, "early", 0, self.at)
        self.closes = self.at + _int(obj, "late", 0, 1439 - self.at)


def _day_range(obj):
    first = _int(obj, "from", 0, _LAST_DAY, 0)
    return first, _int(obj, "to", first, _LAST_DAY, _LAST_DAY)


class Dose:
    def __init__(self, obj, slot_ids, comps):
        self.id = _str(obj, "id", 32)
        self.slot = _index_of(slot_ids, obj.get("slot"), "slot")
        self.comp = comps[_index_of([c.id for c in comps], obj.get("comp"), "compartment")]
        self.pills = _int(obj, "pills", 1, 16)
        if self.pills * self.comp.per > MAX_AMOUNT:
            _fail("dose " + self.id + " is too large", E_CAP)
        self.amount = self.pills * self.comp.per
        self.days = _int(obj, "days", 1, 127)
        self.first_day, self.last_day = _day_range(obj)
        self.key = 0  # set once all ids are known


class Item:
    def __init__(self, obj, slot_ids):
        self.id = _str(obj, "id", 32)
        self.slot = _index_of(slot_ids, obj.get("slot"), "slot")
        self.days = _int(obj, "days", 1, 127)
        self.first_day, self.last_day = _day_range(obj)
        self.key = 0
        self.comp = None  # reminder only: nothing drops


def occurs_on(entry, day, weekday):
    """Whether a dose or item exists on local `day` (with `weekday`, Monday = 0)."""
    return entry.first_day <= day <= entry.last_day and (entry.days >> weekday) & 1


class Schedule:
    """A checked schedule. Build it with `parse(data)`."""

    def __init__(self, obj, sha):
        self.sha = sha
        self.name = _str(obj, "name", 32)
        self.tz = _str(obj, "tz", 64)  # for display by the host; the device uses `utc`
        self.utc = [(e[0], _bounded(e[1], "utc offset", -900, 900)) for e in _table(obj)]
        seen = [False, False, False]
        self.comps = [Compartment(c, seen) for c in _list(obj, "comp")]
        self.slots = [Slot(s) for s in _list(obj, "slots")]
        _check_slots(self.slots)
        slot_ids = [s.id for s in self.slots]
        self.slot_keys = _unique_keys(slot_ids)
        _unique_keys([c.id for c in self.comps])
        self.doses = [Dose(d, slot_ids, self.comps) for d in _list(obj, "doses")]
        self.items = [Item(i, slot_ids) for i in _list(obj, "items")]
        if len(self.doses) > MAX_DOSES or len(self.items) > MAX_ITEMS:
            _fail("too many doses or items")
        _check_checkpoint_fits(self)
        entries = self.doses + self.items
        keys = _unique_keys([e.id for e in entries])
        for i in range(len(entries)):
            entries[i].key = keys[i]
        self.overrides = _overrides(_list(obj, "ovr"))
        self.caps = _effective_caps(obj.get("caps"), self.overrides, self.comps)
        self.spacing = [_spacing(s, self.items) for s in _list(obj, "spacing")]
        remind = obj.get("remind")
        if not isinstance(remind, dict):
            _fail("remind must be an object")
        self.steps = _steps(_list(remind, "steps"))
        self.snooze = _int(remind, "snooze", 1, 240)

    def hash_prefix(self):
        """First 32 bits of the sha256, as logged in SCHEDULE records."""
        return int(self.sha[:8], 16)

    def comp_for_hopper(self, hopper):
        for comp in self.comps:
            if comp.hopper == hopper:
                return comp
        return None


def slots_in_use(sched):
    """Indices of the slots that hold at least one dose or item, in order."""
    used = [False] * len(sched.slots)
    for entry in sched.doses + sched.items:
        used[entry.slot] = True
    return [i for i in range(len(used)) if used[i]]


def _check_checkpoint_fits(sched):
    # The log's checkpoint names every item confirmed, every entry resolved and every slot
    # reminded and snoozed on a day: refuse a schedule whose worst day would not fit it.
    items = len(sched.items)
    size = checkpoint_worst_size(items, len(sched.doses) + items, len(slots_in_use(sched)))
    if size > MAX_RECORD:
        _fail(
            "too many doses, items or slots for the log's checkpoint ("
            + str(size)
            + " of "
            + str(MAX_RECORD)
            + " bytes); use fewer slots"
        )


def _table(obj):
    table = _list(obj, "utc")
    if not table:
        _fail("utc table is empty")
    last = -1
    for entry in table:
        if not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[0], int):
            _fail("utc entries are [t, offset_min]")
        if entry[0] <= last:
            _fail("utc table is not sorted")
        last = entry[0]
    return table


def _check_slots(slots):
    for i in range(1, len(slots)):
        if slots[i].opens <= slots[i - 1].closes:
            _fail("slot windows overlap or are not sorted: " + slots[i].id)


def _overrides(raw):
    """Rule ids of the clinician overrides; each must name who signed it off."""
    rules = []
    for entry in raw:
        _str(entry, "by", 64)
        rules.append(_str(entry, "rule", 16))
    return rules


def _effective_caps(caps, overrides, comps):
    """Per nutrient code, the schedule's daily cap (-1 = not capped). A cap above the
    firmware's absolute cap needs the matching override, so the result never exceeds an
    absolute cap otherwise. A nutrient a compartment holds must have a schedule cap."""
    if not isinstance(caps, dict):
        _fail("caps must be an object")
    result = [-1, -1, -1, -1]
    for name in caps:
        code = nutrients.nutrient_code(name)
        if code < 0:
            _fail("cap for unknown nutrient " + name, E_NUTRIENT)
        cap = _int(caps, name, 0, 1 << 24)
        absolute = nutrients.ABSOLUTE_CAPS[code]
        if absolute is not None and cap > absolute:
            if nutrients.OVERRIDE_RULES[code] not in overrides:
                _fail("cap " + name + " is over the absolute cap without override", E_CAP)
        result[code] = cap
    for comp in comps:
        if result[comp.nut] < 0:
            _fail("no cap for " + nutrients.NUTRIENTS[comp.nut], E_CAP)
    return result


def _spacing(obj, items):
    item = _index_of([i.id for i in items], obj.get("item"), "item")
    nut = nutrients.nutrient_code(obj.get("nut"))
    if nut < 0:
        _fail("spacing for unknown nutrient", E_NUTRIENT)
    return (item, nut, _int(obj, "gap", 1, 1440))


def _steps(raw):
    steps = []
    last = -1
    for step in raw:
        if not isinstance(step, list) or len(step) != 2:
            _fail("remind steps are [minutes, level]")
        at = _bounded(step[0], "remind step minutes", 0, 1440)
        if at <= last or (not steps and at != 0):
            _fail("remind steps must be sorted and start at 0")
        last = at
        steps.append((at, _bounded(step[1], "remind level", 1, 3)))
    if not steps:
        _fail("remind steps are empty")
    return steps


def parse(data):
    """Check schedule bytes and return a Schedule; raises ScheduleError saying why not."""
    sha = verify_hash(data)
    try:
        obj = json.loads(data)
    except ValueError:
        _fail("not JSON", E_FORMAT)
    if not isinstance(obj, dict):
        _fail("not a JSON object", E_FORMAT)
    if obj.get("v") != FORMAT_VERSION:
        _fail("unsupported format version " + str(obj.get("v")), E_VERSION)
    try:
        return Schedule(obj, sha)
    except (AttributeError, TypeError, KeyError, IndexError):
        # a member of the wrong JSON type somewhere deep inside
        _fail("malformed member")
