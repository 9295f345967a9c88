"""Parse and check a device schedule (docs/device-schedule.md) into a compact form.

The device trusts nothing the host sent: it re-checks the hash, the format version, the
structure and the caps against its own absolute caps before a schedule may be installed.
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
from dispenser.core.windows import occurs_on, slots_in_use, waited_doses  # noqa: F401

FORMAT_VERSION = const(1)
_HASH_MARK = b',"sha256":"'
_LAST_DAY = const(1 << 30)
MAX_DOSES = const(32)  # a checkpoint must stay under 255 bytes: see _check_checkpoint_fits
MAX_ITEMS = const(8)
MAX_AMOUNT = const(0xFFFF)  # one dose's amount must fit a DISPENSE record
# Ids and signers' texts: ASCII only, so MicroPython and CPython count their length alike
# and compute the same log keys (id_key encodes the id as UTF-8). Names (the schedule's and
# the items') are UTF-8, limited in bytes, which both count alike. pillctl uses these too.
MAX_ID_LEN = const(12)
MAX_NAME_BYTES = const(64)
MAX_SIGNER_LEN = const(64)
MAX_REASON_LEN = const(200)
MAX_OVERRIDES = const(8)  # one per overridable rule; keeps the status reply one short line
ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

# ScheduleError codes (also logged as the ERROR record's detail)
E_FORMAT = const(1)
E_HASH = const(2)
E_VERSION = const(3)
E_STRUCTURE = const(4)
E_NUTRIENT = const(5)
E_HOPPER = const(6)
E_CAP = const(7)
E_KEY_COLLISION = const(8)
E_CEILING = const(9)


def _fail(message, code=E_STRUCTURE, field=None, values=()):
    raise _error(message, code, field, values)


def _error(message, code, field=None, values=()):
    err = ScheduleError(code, message)
    err.path = () if field is None else (field,)
    err.values = values
    return err


def _within(path, check, *args):
    """check(*args); a refusal it raises is located under `path`."""
    try:
        return check(*args)
    except ScheduleError as err:
        err.path = path + err.path
        raise


def _each(obj, key, check, *args):
    """[check(entry, *args) for each entry of the list obj[key]], refusals located at
    (key, index)."""
    raw = _list(obj, key)
    return [_within((key, i), check, raw[i], *args) for i in range(len(raw))]


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
        _fail(what + " must be an integer in " + str(lo) + ".." + str(hi), E_STRUCTURE, what,
              (value, lo, hi))  # fmt: skip
    return value


def _int(obj, key, lo, hi, default=None):
    return _bounded(obj.get(key, default), key, lo, hi)


def id_ok(value):
    """An id: letters, digits, '-' and '_'."""
    for c in value:
        if c not in ID_CHARS:
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
        _fail(key + " must be a name without control characters", E_STRUCTURE, key)
    if len(value.encode()) > MAX_NAME_BYTES:
        _fail(key + " must be at most " + str(MAX_NAME_BYTES) + " bytes of UTF-8", E_STRUCTURE,
              key, (MAX_NAME_BYTES,))  # fmt: skip
    return value


def _str(obj, key, max_len, check=text_ok):
    value = obj.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= max_len or not check(value):
        _fail(key + " must be 1.." + str(max_len) + " printable ASCII chars", E_STRUCTURE, key,
              (max_len,))  # fmt: skip
    return value


def _id(obj, key):
    return _str(obj, key, MAX_ID_LEN, id_ok)


def _list(obj, key):
    value = obj.get(key)
    if not isinstance(value, list):
        _fail(key + " must be a list", E_STRUCTURE, key)
    return value


def _index_of(ids, name, what, key):
    for i in range(len(ids)):
        if ids[i] == name:
            return i
    raise _error("unknown " + what + " " + str(name), E_STRUCTURE, key)


def _unique_keys(names, sections):
    """The log keys of `names`, the ids of the lists `sections` names in order."""
    keys = [id_key(n) for n in names]
    for i in range(len(keys)):
        if names.count(names[i]) > 1:
            _fail_at(sections, i, "duplicate id " + names[i], E_STRUCTURE)
        if keys.count(keys[i]) > 1:
            _fail_at(sections, i, "ids hash to the same log key; rename " + names[i],
                     E_KEY_COLLISION)  # fmt: skip
    return keys


def _fail_at(sections, i, message, code):
    """Refuse the id of the i-th entry of the lists `sections` ((key, length), ...) hold
    one after the other."""
    for key, length in sections:
        if i < length:
            _within((key, i), _fail, message, code, "id")
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
        _fail("hopper " + str(c.hopper) + " used twice", E_HOPPER, "hopper", (c.hopper,))
    hopper_seen[c.hopper] = True
    c.nut = nutrients.nutrient_code(obj.get("nut"))
    if c.nut < 0:
        _fail("unknown nutrient " + str(obj.get("nut")), E_NUTRIENT, "nut")
    if nutrients.FORMS.get(obj.get("form"), -1) != c.nut:
        _fail("form " + str(obj.get("form")) + " does not carry " + obj["nut"], E_NUTRIENT, "form")
    c.per = _int(obj, "per", 1, MAX_AMOUNT)
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
    d.slot = _index_of(slot_ids, obj.get("slot"), "slot", "slot")
    d.comp = comp = comps[_index_of([c.id for c in comps], obj.get("comp"), "compartment", "comp")]
    d.pills = _int(obj, "pills", 1, 16)
    d.amount = d.pills * comp.per
    if d.amount > MAX_AMOUNT:
        _fail("dose is too large: " + d.id, E_CAP, "pills", (d.amount, MAX_AMOUNT))
    if comp.nut == 0 and d.amount > nutrients.D_DOSE_CEILING:
        _fail("vitamin D dose over the device ceiling: " + d.id, E_CEILING, "pills",
              (d.amount, nutrients.D_DOSE_CEILING))  # fmt: skip
    return _days(d, obj)


def _item(obj, slot_ids):
    e = Entry()
    e.id = _id(obj, "id")
    _name(obj, "name")
    e.slot = _index_of(slot_ids, obj.get("slot"), "slot", "slot")
    e.comp = None  # reminder only: nothing drops
    return _days(e, obj)


def _days(e, obj):
    e.days = _int(obj, "days", 1, 127)
    e.first_day = first = _int(obj, "from", 0, _LAST_DAY, 0)
    e.last_day = _int(obj, "to", first, _LAST_DAY, _LAST_DAY)
    e.key = 0  # set once all ids are known
    return e


def build(obj, sha):
    """The Schedule of a decoded schedule object whose hash is `sha` (parse() without the
    hash and JSON checks; the host uses it for the schedules it saved)."""
    s = Schedule()
    s.sha = sha
    s.name = _name(obj, "name")
    s.tz = _str(obj, "tz", 64)  # for display by the host; the device uses `utc`
    s.utc = [(e[0], _bounded(e[1], "utc offset", -900, 900)) for e in _table(obj)]
    seen = [False, False, False]
    s.comps = _each(obj, "comp", _compartment, seen)
    s.slots = _each(obj, "slots", _slot)
    _check_slots(s.slots)
    slot_ids = [x.id for x in s.slots]
    s.slot_keys = _unique_keys(slot_ids, (("slots", len(slot_ids)),))
    _unique_keys([c.id for c in s.comps], (("comp", len(s.comps)),))
    s.doses = _each(obj, "doses", _dose, slot_ids, s.comps)
    s.items = _each(obj, "items", _item, slot_ids)
    if len(s.doses) > MAX_DOSES or len(s.items) > MAX_ITEMS:
        _fail("more than " + str(MAX_DOSES) + " doses or " + str(MAX_ITEMS) + " items",
              E_STRUCTURE, "doses" if len(s.doses) > MAX_DOSES else "items")  # fmt: skip
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
        _fail("remind must be an object", E_STRUCTURE, "remind")
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
        _fail(
            "too many doses, items or slots for the log's checkpoint ("
            + str(size)
            + " of "
            + str(MAX_RECORD)
            + " bytes); use fewer slots",
            E_STRUCTURE,
            "slots",
            (size, MAX_RECORD),
        )


def _table(obj):
    table = _list(obj, "utc")
    if not table:
        _fail("utc table is empty", E_STRUCTURE, "utc")
    last = -1
    for entry in table:
        if not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[0], int):
            _fail("utc entries are [t, offset_min]", E_STRUCTURE, "utc")
        if entry[0] <= last:
            _fail("utc table is not sorted", E_STRUCTURE, "utc")
        last = entry[0]
    return table


def _check_slots(slots):
    for i in range(1, len(slots)):
        if slots[i].opens <= slots[i - 1].closes:
            _within(("slots", i), _fail, "slot windows overlap or are not sorted: " + slots[i].id)


def _overrides(obj):
    """Rule ids of the clinician overrides and who signed them (each must name someone).
    A schedule with any override is installed only after a hold on the device's button."""
    if len(_list(obj, "ovr")) > MAX_OVERRIDES:
        _fail("more than " + str(MAX_OVERRIDES) + " overrides", E_STRUCTURE, "ovr")
    rules = []
    signers = []
    for by, rule in _each(obj, "ovr", _override):
        rules.append(rule)
        if by not in signers:
            signers.append(by)
    return rules, signers


def _override(entry):
    _str(entry, "why", MAX_REASON_LEN)
    return _str(entry, "by", MAX_SIGNER_LEN), _str(entry, "rule", 16, id_ok)


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
        _fail("vitamin D over the device ceiling of the week", E_CEILING, "doses",
              (week, nutrients.D_WEEK_CEILING))  # fmt: skip


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
            _fail("cap for unknown nutrient " + name, E_NUTRIENT, name)
        cap = _int(caps, name, 0, 1 << 24)
        ceiling = nutrients.CEILINGS[code]
        if code == 0:
            ceiling = nutrients.D_WEEK_CEILING
        if ceiling is not None and cap > ceiling:
            _fail("cap " + name + " is over the device ceiling", E_CEILING, name, (cap, ceiling))
        absolute = nutrients.ABSOLUTE_CAPS[code]
        if absolute is not None and cap > absolute:
            # a child's band limit (CHILD-UL) replaces D3-UL and CA-UL when overridden
            child = code < 2 and "CHILD-UL" in overrides
            if nutrients.OVERRIDE_RULES[code] not in overrides and not child:
                _fail("cap " + name + " is over the absolute cap without override", E_CAP, name,
                      (cap, absolute))  # fmt: skip
        result[code] = cap
    for comp in comps:
        if result[comp.nut] < 0:
            name = nutrients.NUTRIENTS[comp.nut]
            _fail("no cap for " + name, E_CAP, name)
    return result


def _spacing(obj, items):
    item = _index_of([i.id for i in items], obj.get("item"), "item", "item")
    nut = nutrients.nutrient_code(obj.get("nut"))
    if nut < 0:
        _fail("spacing for unknown nutrient", E_NUTRIENT, "nut")
    # (item index, nutrient, minutes the nutrient waits after the item's confirmation,
    # minutes the item's reminder waits after the nutrient was dispensed; 0: it does not)
    return (item, nut, _int(obj, "gap", 1, 1440), _int(obj, "wait", 0, 1440, 0))


def _steps(remind):
    steps = []
    last = -1
    for step in _list(remind, "steps"):
        if not isinstance(step, list) or len(step) != 2:
            _fail("remind steps are [minutes, level]", E_STRUCTURE, "steps")
        at = _bounded(step[0], "remind step minutes", 0, 1440)
        if at <= last or (not steps and at != 0):
            _fail("remind steps must be sorted and start at 0", E_STRUCTURE, "steps")
        last = at
        steps.append((at, _bounded(step[1], "remind level", 1, 3)))
    if not steps:
        _fail("remind steps are empty", E_STRUCTURE, "steps")
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
        return build(obj, sha)
    except (AttributeError, TypeError, KeyError, IndexError):
        # a member of the wrong JSON type somewhere deep inside
        raise ScheduleError(E_STRUCTURE, "malformed member")
