"""Parse and check a device schedule (docs/device-schedule.md) into a compact form.

The device trusts nothing the host sent: it re-checks the hash, the format version, the
structure and the caps against its own absolute caps before a schedule may be installed.
A refusal is a ScheduleError in numbers only (a code, the member's path, the values): the
words a person reads are the host's (pillctl.schedule.refusal), which keeps them off the
device and says each once.
"""

import hashlib
import json
from binascii import hexlify

from dispenser.compat import const
from dispenser.core import checkpoint, nutrients

# What the running app needs of a schedule lives in dispenser.core.engine, so that this module
# (the check) can be unloaded on the device once it ran; re-exported here for the host.
from dispenser.core.engine import Schedule, ScheduleError  # noqa: F401
from dispenser.core.logrec import MAX_RECORD, id_key
from dispenser.core.windows import slots_in_use, waited_doses

FORMAT_VERSION = const(1)
_HASH_MARK = b',"sha256":"'
_LAST_DAY = const(1 << 30)
MAX_DOSES = const(32)  # a checkpoint must stay under 255 bytes: see _check_checkpoint_fits
MAX_ITEMS = const(8)
_MAX_AMOUNT = const(0xFFFF)  # one dose's amount must fit a DISPENSE record
# Ids and signers' texts: ASCII only, so MicroPython and CPython count their length alike
# and compute the same log keys (id_key encodes the id as UTF-8). Names (the schedule's and
# the items') are UTF-8, limited in bytes, which both count alike. pillctl uses these too.
MAX_ID_LEN = const(12)
MAX_NAME_BYTES = const(64)
MAX_SIGNER_LEN = const(64)
MAX_REASON_LEN = const(200)
_MAX_OVERRIDES = const(8)  # one per overridable rule; keeps the status reply one short line
_ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

# ScheduleError codes, one per refusal: logged as the ERROR record's detail and sent in a
# refused schedule.put reply. The device says no words: pillctl.schedule.refusal has them.
# 1..9 are logged and documented since the first firmware: they keep their numbers.
E_FORMAT = const(1)  # not JSON
E_HASH = const(2)  # the sha256 does not match the content
E_VERSION = const(3)  # another format version
E_STRUCTURE = const(4)  # a member of the wrong JSON type
E_NUTRIENT = const(5)  # a compartment or spacing entry names an unknown nutrient
E_HOPPER = const(6)  # two compartments in one hopper
E_CAP = const(7)  # a cap over the absolute cap without its override; values: (absolute,)
E_KEY_COLLISION = const(8)  # two ids with the same log key
E_CEILING = const(9)  # a cap over the firmware's ceiling; values: (ceiling,)
E_NO_HASH = const(10)  # no sha256 member at the end
E_NOT_OBJECT = const(11)
E_NOT_LIST = const(12)
E_RANGE = const(13)  # values: (low, high)
E_ID = const(14)  # values: (longest,)
E_TEXT = const(15)  # values: (longest,)
E_NAME = const(16)  # control characters, or blank
E_NAME_LONG = const(17)  # values: (UTF-8 bytes, most bytes)
E_UNKNOWN_ID = const(18)  # a dose's slot or compartment, a spacing entry's item
E_DUPLICATE_ID = const(19)
E_FORM = const(20)  # the form does not carry the compartment's nutrient
E_DOSE_SIZE = const(21)  # values: (amount, largest a record holds)
E_DOSE_CEILING = const(22)  # values: (IU, the firmware's ceiling)
E_WEEK_CEILING = const(23)  # values: (IU in a week, the firmware's ceiling)
E_TOO_MANY = const(24)  # values: (most entries,)
E_CHECKPOINT = const(25)  # values: (bytes on the busiest day, a record's most)
E_EMPTY = const(26)
E_UTC_ENTRY = const(27)  # not [t, offset]
E_STEP_ENTRY = const(28)  # not [minutes, level]
E_UNSORTED = const(29)  # a utc or remind step entry not after the one before it
E_FIRST_STEP = const(30)  # the first remind step is not at minute 0
E_SLOT_ORDER = const(31)  # a slot's window not after the one before it
E_NO_CAP = const(32)  # a nutrient a compartment holds has no cap
E_CAP_NUTRIENT = const(33)  # a cap for an unknown nutrient
_MAX_KEY_SHOWN = const(16)  # of an unknown cap's key, in a refusal's path


def _fail(code, field=None, values=()):
    """Refuse: `field` is the member at fault in the object being checked; _within puts
    the path to that object in front."""
    err = ScheduleError(code, values)
    if field is not None:
        err.path = (field,)
    raise err


def _within(path, check, *args):
    """check(*args); a refusal it raises, or a member of the wrong JSON type it trips on,
    is located under `path`."""
    try:
        return check(*args)
    except ScheduleError as err:
        err.path = path + err.path
        raise
    except (AttributeError, TypeError, KeyError, IndexError):
        malformed = ScheduleError(E_STRUCTURE)
        malformed.path = path
        raise malformed


def _each(obj, key, check, *args):
    """[check(entry, *args) for each entry of the list obj[key]], refusals located at
    (key, index)."""
    raw = _list(obj, key)
    return [_within((key, i), check, raw[i], *args) for i in range(len(raw))]


def verify_hash(data):
    """The schedule's sha256 hex if `data` carries a correct one, else ScheduleError."""
    i = data.rfind(_HASH_MARK)
    if i < 0 or data[i + 75 :] != b'"}':
        _fail(E_NO_HASH)
    digest = hashlib.sha256(memoryview(data)[:i])  # no copy of the body
    digest.update(b"}")
    hex_digest = hexlify(digest.digest())
    if data[i + 11 : i + 75] != hex_digest:
        _fail(E_HASH)
    return hex_digest.decode()


def _bounded(value, lo, hi, field=None):
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        _fail(E_RANGE, field, (lo, hi))
    return value


def _int(obj, key, lo, hi, default=None):
    return _bounded(obj.get(key, default), lo, hi, key)


def id_ok(value):
    """An id: letters, digits, '-' and '_'."""
    for c in value:
        if c not in _ID_CHARS:
            return False
    return True


def text_ok(value):
    """A name or text: printable ASCII, not only spaces."""
    for c in value:
        if not " " <= c <= "~":
            return False
    return bool(value.strip())


def name_ok(value):
    """A name as people write it: any Unicode but control characters (C0, DEL, C1) and lone
    surrogates (a JSON escape MicroPython would store as invalid UTF-8); not only spaces.
    pillctl refuses more (format and unassigned characters): the device keeps what it can
    check without a Unicode database."""
    for c in value:
        code = ord(c)
        if code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF:
            return False
    return bool(value.strip())


def _name(obj, key):
    """A name, counted in UTF-8 bytes (MicroPython's str length would count alike, but a
    byte limit is what bounds the memory and the frames it fills)."""
    value = obj.get(key)
    if not isinstance(value, str) or not name_ok(value):
        _fail(E_NAME, key)
    size = len(value.encode())
    if size > MAX_NAME_BYTES:
        _fail(E_NAME_LONG, key, (size, MAX_NAME_BYTES))
    return value


def _str(obj, key, max_len, check=text_ok, code=E_TEXT):
    value = obj.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= max_len or not check(value):
        _fail(code, key, (max_len,))
    return value


def _id(obj, key):
    return _str(obj, key, MAX_ID_LEN, id_ok, E_ID)


def _list(obj, key):
    value = obj.get(key)
    if not isinstance(value, list):
        _fail(E_NOT_LIST, key)
    return value


def _index_of(ids, name, key):
    if name not in ids:
        _fail(E_UNKNOWN_ID, key)
    return ids.index(name)


def _unique_keys(names, sections):
    """The log keys of `names`, the ids of the lists `sections` names in order."""
    keys = [id_key(n) for n in names]
    for i in range(len(keys)):
        if names.count(names[i]) > 1:
            _fail_at(sections, i, E_DUPLICATE_ID)
        if keys.count(keys[i]) > 1:
            _fail_at(sections, i, E_KEY_COLLISION)
    return keys


def _fail_at(sections, i, code):
    """Refuse the id of the i-th entry of the lists `sections` ((key, length), ...) hold
    one after the other."""
    for key, length in sections:
        if i < length:
            _within((key, i), _fail, code, "id")
        i -= length


# The parts of a Schedule. Plain records without methods, so that the schedules they make up
# outlive this module: the device unloads it once a check ran (engine.Schedule says why).
class Compartment:
    id: str
    hopper: int
    nut: int
    per: int
    capacity: int
    low: int


class Slot:
    id: str
    at: int
    opens: int
    closes: int


class Entry:
    """A dose (`comp` is its Compartment) or a reminder-only item (`comp` is None)."""

    id: str
    slot: int
    comp: Compartment | None
    pills: int
    amount: int
    days: int
    first_day: int
    last_day: int
    key: int


def _compartment(obj, hopper_seen):
    c = Compartment()
    c.id = _id(obj, "id")
    c.hopper = _int(obj, "hopper", 0, 2)
    if hopper_seen[c.hopper]:
        _fail(E_HOPPER, "hopper")
    hopper_seen[c.hopper] = True
    c.nut = nutrients.nutrient_code(obj.get("nut"))
    if c.nut < 0:
        _fail(E_NUTRIENT, "nut")
    if nutrients.FORMS.get(obj.get("form"), -1) != c.nut:
        _fail(E_FORM, "form")
    c.per = _int(obj, "per", 1, _MAX_AMOUNT)
    c.capacity = _int(obj, "cap", 1, 1000)
    c.low = _int(obj, "low", 0, c.capacity)
    return c


def _slot(obj):
    s = Slot()
    s.id = _id(obj, "id")
    s.at = _int(obj, "at", 0, 1439)
    s.opens = s.at - _int(obj, "early", 0, s.at)
    s.closes = s.at + _int(obj, "late", 0, 1439 - s.at)
    return s


def _dose(obj, slot_ids, comps):
    d = Entry()
    d.id = _id(obj, "id")
    d.slot = _index_of(slot_ids, obj.get("slot"), "slot")
    d.comp = comp = comps[_index_of([c.id for c in comps], obj.get("comp"), "comp")]
    d.pills = _int(obj, "pills", 1, 16)
    d.amount = d.pills * comp.per
    if d.amount > _MAX_AMOUNT:
        _fail(E_DOSE_SIZE, "pills", (d.amount, _MAX_AMOUNT))
    if comp.nut == 0 and d.amount > nutrients.D_DOSE_CEILING:
        _fail(E_DOSE_CEILING, "pills", (d.amount, nutrients.D_DOSE_CEILING))
    return _days(d, obj)


def _item(obj, slot_ids):
    e = Entry()
    e.id = _id(obj, "id")
    _name(obj, "name")
    e.slot = _index_of(slot_ids, obj.get("slot"), "slot")
    e.comp = None  # reminder only: nothing drops
    return _days(e, obj)


def _days(e, obj):
    e.days = _int(obj, "days", 1, 127)
    e.first_day = first = _int(obj, "from", 0, _LAST_DAY, 0)
    e.last_day = _int(obj, "to", first, _LAST_DAY, _LAST_DAY)
    e.key = 0  # set once all ids are known
    return e


def _at_most(entries, key, most):
    if len(entries) > most:
        _fail(E_TOO_MANY, key, (most,))
    return entries


def build(obj, sha):
    """The Schedule of a decoded schedule object whose hash is `sha` (parse() without the
    hash and JSON checks; the host uses it for the schedules it saved)."""
    s = Schedule()
    s.sha = sha
    s.name = _name(obj, "name")
    s.tz = _str(obj, "tz", 64)  # for display by the host; the device uses `utc`
    s.utc = _pairs(obj, "utc", E_UTC_ENTRY, 0xFFFFFFFF, (-900, 900))
    seen = [False, False, False]
    s.comps = _each(obj, "comp", _compartment, seen)
    s.slots = _each(obj, "slots", _slot)
    _check_slots(s.slots)
    slot_ids = [x.id for x in s.slots]
    s.slot_keys = _unique_keys(slot_ids, (("slots", len(slot_ids)),))
    _unique_keys([c.id for c in s.comps], (("comp", len(s.comps)),))
    s.doses = _at_most(_each(obj, "doses", _dose, slot_ids, s.comps), "doses", MAX_DOSES)
    s.items = _at_most(_each(obj, "items", _item, slot_ids), "items", MAX_ITEMS)
    entries = s.doses + s.items
    keys = _unique_keys([e.id for e in entries], (("doses", len(s.doses)), ("items", 0x7FFF)))
    for i in range(len(entries)):
        entries[i].key = keys[i]
    s.overrides, s.signers = _overrides(obj)
    s.caps = _within(("caps",), _effective_caps, obj.get("caps"), s.overrides, s.comps)
    _check_week(s.doses, s.caps[0])
    s.spacing = _each(obj, "spacing", _spacing, s.items)
    _check_checkpoint_fits(s)
    remind = obj.get("remind")
    if not isinstance(remind, dict):
        _fail(E_NOT_OBJECT, "remind")
    s.steps = _within(("remind",), _steps, remind)
    s.snooze = _within(("remind",), _int, remind, "snooze", 1, 240)
    return s


def _check_checkpoint_fits(sched):
    # The log's checkpoint names every item confirmed, every dose a spacing rule waits on
    # (with the time it was taken), every entry resolved and every slot reminded and snoozed
    # on a day: refuse a schedule whose worst day would not fit it.
    items = len(sched.items)
    timed = items + len(waited_doses(sched))
    size = checkpoint.worst_size(timed, len(sched.doses) + items, len(slots_in_use(sched)))
    if size > MAX_RECORD:
        _fail(E_CHECKPOINT, "slots", (size, MAX_RECORD))


def _pairs(obj, key, shape, first_max, second):
    """The non-empty list obj[key] of [a, b] integer pairs, as tuples: a from 0 to
    `first_max` and increasing from entry to entry, b within `second` (low, high). `shape`
    is the code for an entry that is no pair."""
    raw = _list(obj, key)
    if not raw:
        _fail(E_EMPTY, key)
    pairs = []
    for i in range(len(raw)):
        pairs.append(_within((key, i), _pair, raw[i], pairs, shape, first_max, second))
    return pairs


def _pair(entry, before, shape, first_max, second):
    if not isinstance(entry, list) or len(entry) != 2:
        _fail(shape)
    first = _bounded(entry[0], 0, first_max, 0)
    if before and first <= before[-1][0]:
        _fail(E_UNSORTED, 0)
    return first, _bounded(entry[1], second[0], second[1], 1)


def _check_slots(slots):
    for i in range(1, len(slots)):
        if slots[i].opens <= slots[i - 1].closes:
            _within(("slots", i), _fail, E_SLOT_ORDER)


def _overrides(obj):
    """Rule ids of the clinician overrides and who signed them (each must name someone).
    A schedule with any override is installed only after a hold on the device's button."""
    _at_most(_list(obj, "ovr"), "ovr", _MAX_OVERRIDES)
    rules = []
    signers = []
    for by, rule in _each(obj, "ovr", _override):
        rules.append(rule)
        if by not in signers:
            signers.append(by)
    return rules, signers


def _override(entry):
    _str(entry, "why", MAX_REASON_LEN)
    return _str(entry, "by", MAX_SIGNER_LEN), _str(entry, "rule", 16, id_ok, E_ID)


def _check_week(doses, day_cap):
    """The vitamin D a schedule can give in one week (each weekday's doses, at most the
    daily cap) stays under the 7-day ceiling; the engine enforces it again at dispense."""
    week = 0
    for weekday in range(7):
        day = 0
        for dose in doses:
            if dose.comp.nut == 0 and (dose.days >> weekday) & 1:
                day += dose.amount
        week += min(day, day_cap) if day_cap >= 0 else day
    if week > nutrients.D_WEEK_CEILING:
        _fail(E_WEEK_CEILING, "doses", (week, nutrients.D_WEEK_CEILING))


def _effective_caps(caps, overrides, comps):
    """Per nutrient code, the schedule's daily cap (-1 = not capped). A cap above the
    firmware's absolute cap needs the matching override, so the result never exceeds an
    absolute cap otherwise. A nutrient a compartment holds must have a schedule cap."""
    if not isinstance(caps, dict):
        _fail(E_NOT_OBJECT)
    result = [-1, -1, -1, -1]
    for name in caps:
        code = nutrients.nutrient_code(name)
        if code < 0:  # the key as written, cut: a reply must stay one short frame
            _fail(E_CAP_NUTRIENT, name[:_MAX_KEY_SHOWN])
        cap = _int(caps, name, 0, 1 << 24)
        ceiling = nutrients.CEILINGS[code]
        if code == 0:
            ceiling = nutrients.D_WEEK_CEILING
        if ceiling is not None and cap > ceiling:
            _fail(E_CEILING, name, (ceiling,))
        absolute = nutrients.ABSOLUTE_CAPS[code]
        if absolute is not None and cap > absolute:
            # a child's band limit (CHILD-UL) replaces D3-UL and CA-UL when overridden
            child = code < 2 and "CHILD-UL" in overrides
            if nutrients.OVERRIDE_RULES[code] not in overrides and not child:
                _fail(E_CAP, name, (absolute,))
        result[code] = cap
    for comp in comps:
        if result[comp.nut] < 0:
            _fail(E_NO_CAP, nutrients.NUTRIENTS[comp.nut])
    return result


def _spacing(obj, items):
    item = _index_of([i.id for i in items], obj.get("item"), "item")
    nut = nutrients.nutrient_code(obj.get("nut"))
    if nut < 0:
        _fail(E_NUTRIENT, "nut")
    # (item index, nutrient, minutes the nutrient waits after the item's confirmation,
    # minutes the item's reminder waits after the nutrient was dispensed; 0: it does not)
    return (item, nut, _int(obj, "gap", 1, 1440), _int(obj, "wait", 0, 1440, 0))


def _steps(remind):
    steps = _pairs(remind, "steps", E_STEP_ENTRY, 1440, (1, 3))
    if steps[0][0] != 0:
        _within(("steps", 0), _fail, E_FIRST_STEP, 0)
    return steps


def parse(data):
    """Check schedule bytes and return a Schedule; raises ScheduleError saying why not."""
    sha = verify_hash(data)
    try:
        obj = json.loads(data)
    except ValueError:
        _fail(E_FORMAT)
    if not isinstance(obj, dict):
        _fail(E_NOT_OBJECT)
    if obj.get("v") != FORMAT_VERSION:
        _fail(E_VERSION, "v")
    try:
        return build(obj, sha)
    except (AttributeError, TypeError, KeyError, IndexError):
        # a member of the wrong JSON type outside the lists and objects _within locates
        _fail(E_STRUCTURE)
