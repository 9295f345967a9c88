"""The words for the firmware's schedule refusals, said once for the whole host.

The device's check (``dispenser.core.schedule``) refuses in numbers only, so the Pico carries
no message text: a ScheduleError's ``code``, the ``path`` of the member at fault and the
``values`` it computed or compared with. A refused ``schedule.put`` sends the three
(docs/protocol.md); an ERROR record's detail keeps the code alone. Everything that shows a
refusal to a person words it here: ``pillctl validate``'s DEVICE findings, a refused push,
a saved or read-back schedule that fails the check, and ``pillctl logs`` (the short name).
"""

from __future__ import annotations

import json
from typing import Any

from dispenser.core import schedule as device

# code: (short name, as the log shows it; sentence). The sentence is formatted with the
# values as {0}, {1}, ..., with {found}, the member the path names as the schedule has it
# ({found[id]}: one of its members), {entry[...]}, a member beside it, {key}, the last key
# of the path ({named}: quoted and cut as a member is), and {subject}, its last name (not an
# index): what the sentence is about. The path itself follows the sentence, in parentheses.
_WORDS: dict[int, tuple[str, str]] = {
    device.E_FORMAT: ("not_json", "the schedule is not JSON"),
    device.E_HASH: ("hash_mismatch", "the sha256 member does not match the content"),
    device.E_VERSION: ("format_version", "format version {found} is not supported"),
    device.E_STRUCTURE: ("wrong_type", "a member has the wrong JSON type"),
    device.E_NUTRIENT: ("unknown_nutrient", "unknown nutrient {found}"),
    device.E_HOPPER: ("hopper_twice", "hopper {found} is used twice"),
    device.E_CAP: (
        "cap_over_absolute",
        "cap {found} is over the absolute cap of {0} without its override",
    ),
    device.E_KEY_COLLISION: (
        "key_collision",
        "id {found} hashes to the same log key as another id; rename it",
    ),
    device.E_CEILING: ("cap_over_ceiling", "cap {found} is over the device ceiling of {0}"),
    device.E_NO_HASH: ("no_hash", "no sha256 member at the end"),
    device.E_NOT_OBJECT: ("not_object", "not a JSON object"),
    device.E_NOT_LIST: ("not_list", "{subject} must be a list, not {found}"),
    device.E_RANGE: ("out_of_range", "{subject} must be an integer in {0}..{1}, not {found}"),
    device.E_ID: ("bad_id", "{subject} must be 1..{0} letters, digits, '-' or '_', not {found}"),
    device.E_TEXT: (
        "bad_text",
        "{subject} must be 1..{0} printable ASCII characters, not only spaces, not {found}",
    ),
    device.E_NAME: (
        "bad_name",
        "{subject} must hold no control characters and more than spaces, not {found}",
    ),
    device.E_NAME_LONG: ("name_too_long", "{subject} is {0} bytes of UTF-8; at most {1}"),
    device.E_UNKNOWN_ID: ("unknown_id", "no {key} has the id {found}"),
    device.E_DUPLICATE_ID: ("duplicate_id", "id {found} is used twice"),
    device.E_FORM: ("form_mismatch", "form {found} does not carry {entry[nut]}"),
    device.E_DOSE_SIZE: ("dose_too_large", "a dose of {0} is more than the {1} a record holds"),
    device.E_DOSE_CEILING: (
        "dose_over_ceiling",
        "a vitamin D dose of {0} IU is over the device ceiling of {1} IU",
    ),
    device.E_WEEK_CEILING: (
        "week_over_ceiling",
        "{0} IU of vitamin D in a week is over the device ceiling of {1} IU",
    ),
    device.E_TOO_MANY: ("too_many", "more than {0} entries"),
    device.E_CHECKPOINT: (
        "checkpoint_too_big",
        "too many doses, items or slots for the log's checkpoint ({0} of {1} bytes); "
        "use fewer slots",
    ),
    device.E_EMPTY: ("empty", "{subject} must not be empty"),
    device.E_UTC_ENTRY: (
        "bad_utc_entry",
        "each {subject} entry must be [t, offset_min], not {found}",
    ),
    device.E_STEP_ENTRY: (
        "bad_remind_step",
        "each {subject} entry must be [minutes, level], not {found}",
    ),
    device.E_UNSORTED: (
        "unsorted",
        "{subject} must grow from entry to entry: {found} is not more than the one before it",
    ),
    device.E_FIRST_STEP: ("first_step", "the first reminder step must be at minute 0"),
    device.E_SLOT_ORDER: (
        "slot_order",
        "the window of slot {found[id]} overlaps the one before it or comes before it",
    ),
    device.E_NO_CAP: ("no_cap", "no cap for {named}, which a compartment holds"),
    device.E_CAP_NUTRIENT: ("cap_unknown_nutrient", "a cap for unknown nutrient {named}"),
}

_ABSENT = object()  # the schedule has no such member
_UNKNOWN = object()  # no schedule to read it in
_LONGEST_SHOWN = 40  # characters of a member a sentence quotes


def short_name(code: int) -> str:
    """A refusal code's name, as `pillctl logs` shows an ERROR record's detail."""
    return _WORDS[code][0] if code in _WORDS else str(code)


def describe(code: int, path: Any = (), values: Any = (), schedule: Any = None) -> str:
    """What the firmware refused and where, in one line: ``hopper 2 is used twice
    (comp[1].hopper)``. ``schedule``: the refused schedule (its bytes or decoded object),
    where the sentence reads what the path names; without it that shows as ``?``."""
    # A reply is the device's word: whatever it holds, the sentence comes out (a newer or
    # faulty firmware's odd members read as none).
    path = tuple(path) if isinstance(path, list | tuple) else ()
    values = tuple(values) if isinstance(values, list | tuple) else ()
    if isinstance(schedule, bytes | bytearray):
        schedule = _decoded(schedule)
    text = _sentence(code, path, values, schedule)
    where = member_path(path)
    return f"{text} ({where})" if where else text


def _sentence(code: int, path: tuple, values: tuple, schedule: Any) -> str:
    if code not in _WORDS:  # a newer firmware's code
        return f"refusal {code} {list(values)}"
    name, sentence = _WORDS[code]
    if schedule is None:
        schedule = _UNKNOWN
    try:
        return sentence.format(
            *values,
            found=_Member(_lookup(schedule, path)),
            entry=_Member(_lookup(schedule, path[:-1])),
            key=path[-1] if path else "",
            named=_Member(path[-1] if path else _ABSENT),
            subject=next((part for part in reversed(path) if isinstance(part, str)), "it"),
        )
    except (IndexError, KeyError):  # fewer values than this host knows of
        return f"{name} {list(values)}"


def explain(refusal: device.ScheduleError, schedule: Any = None) -> str:
    """``describe`` of a ScheduleError the check raised on the host."""
    return describe(refusal.code, refusal.path, refusal.values, schedule)


def explain_reply(reply: dict, schedule: Any = None) -> str:
    """``describe`` of the ``refusal`` member of a refused schedule.put reply."""
    code = reply.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else 0
    return describe(code, reply.get("path", ()), reply.get("values", ()), schedule)


def member_path(path: Any) -> str:
    """("comp", 1, "hopper") as ``comp[1].hopper``: the member in the compiled schedule."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class _Member:
    """A member of the refused schedule as a sentence quotes it (JSON, as written);
    ``[key]`` is one of its own members."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __getitem__(self, key: str | int) -> _Member:
        return _Member(_lookup(self.value, (key,)))

    def __format__(self, spec: str) -> str:
        if self.value is _UNKNOWN:
            return "?"
        if self.value is _ABSENT:
            return "nothing"
        text = json.dumps(self.value, ensure_ascii=False)
        return text if len(text) <= _LONGEST_SHOWN else text[: _LONGEST_SHOWN - 1] + "…"


def _lookup(obj: Any, path: tuple) -> Any:
    """The member of `obj` at `path`, _ABSENT if there is none; _UNKNOWN stays unknown."""
    for part in path:
        if obj is _UNKNOWN:
            break
        if isinstance(obj, dict):
            obj = obj.get(part, _ABSENT)
        elif isinstance(obj, list) and isinstance(part, int) and 0 <= part < len(obj):
            obj = obj[part]
        else:
            return _ABSENT
    return obj


def _decoded(data: bytes | bytearray) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None
