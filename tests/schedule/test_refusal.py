"""The firmware's refusals in words: the device sends a code, a path and values; the host
words them once (pillctl.schedule.refusal), for validate, a refused push, a saved schedule
and the log alike."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from dispenser.core import logrec
from dispenser.core import schedule as device
from pillctl.names import Names
from pillctl.schedule import refusal
from pillctl.schedule.hashing import with_hash

BONE_HEALTH = Path(__file__).resolve().parents[1] / "data" / "device" / "bone-health.json"
CODES = {name: value for name, value in vars(device).items() if name.startswith("E_")}


def _bone_health() -> dict:
    obj = json.loads(BONE_HEALTH.read_bytes())
    del obj["sha256"]
    return obj


def _words(change) -> str:
    obj = _bone_health()
    change(obj)
    data = with_hash(obj)
    with pytest.raises(device.ScheduleError) as refused:
        device.parse(data)
    return refusal.explain(refused.value, data)


def test_the_logged_codes_keep_their_numbers_and_every_code_has_its_own_words():
    assert [CODES[name] for name in ("E_FORMAT", "E_HASH", "E_VERSION", "E_STRUCTURE")] == [
        1, 2, 3, 4]  # fmt: skip
    assert [CODES[name] for name in ("E_NUTRIENT", "E_HOPPER", "E_CAP", "E_KEY_COLLISION")] == [
        5, 6, 7, 8]  # fmt: skip
    assert CODES["E_CEILING"] == 9
    assert sorted(CODES.values()) == list(range(1, len(CODES) + 1))  # one code, one refusal
    names = {refusal.short_name(code) for code in CODES.values()}
    assert len(names) == len(CODES) and not any(name.isdigit() for name in names)


def _set(*path_and_value):
    *path, value = path_and_value

    def change(obj):
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = value

    return change


@pytest.mark.parametrize(
    "change, words",
    [
        (_set("comp", 1, "hopper", 0), "hopper 0 is used twice (comp[1].hopper)"),
        (_set("comp", 0, "nut", "vitc"), 'unknown nutrient "vitc" (comp[0].nut)'),
        (_set("comp", 0, "form", "ca_citrate"),
         'form "ca_citrate" does not carry "vitd" (comp[0].form)'),
        (_set("slots", 1, "at", 5000), "at must be an integer in 0..1439, not 5000 (slots[1].at)"),
        (_set("slots", 1, "early", 400),
         'the window of slot "lunch" overlaps the one before it or comes before it (slots[1])'),
        (_set("doses", 0, "slot", "brunch"), 'no slot has the id "brunch" (doses[0].slot)'),
        (_set("doses", 1, "id", "ca-breakfast"), 'id "ca-breakfast" is used twice (doses[0].id)'),
        (_set("doses", 1, "id", "d3 lunch"),
         "id must be 1..12 letters, digits, '-' or '_', not \"d3 lunch\" (doses[1].id)"),
        (_set("caps", "ca", 2600),
         "cap 2600 is over the absolute cap of 2500 without its override (caps.ca)"),
        (_set("caps", "iron", 10), 'a cap for unknown nutrient "iron" (caps.iron)'),
        (_set("name", "Plan\x07"),
         'name must hold no control characters and more than spaces, not "Plan\\u0007" (name)'),
        (_set("name", "µ" * 33), "name is 66 bytes of UTF-8; at most 64 (name)"),
        (_set("remind", "steps", [[5, 1]]),
         "the first reminder step must be at minute 0 (remind.steps[0][0])"),
        (_set("remind", "steps", [[0, 1], [0, 2]]),
         "steps must grow from entry to entry: 0 is not more than the one before it"
         " (remind.steps[1][0])"),
        (_set("utc", [[2, 60], 5]), "each utc entry must be [t, offset_min], not 5 (utc[1])"),
        (_set("remind", "steps", []), "steps must not be empty (remind.steps)"),
        (_set("v", 2), "format version 2 is not supported (v)"),
        (_set("ovr", [{"rule": "D3-UL", "by": "Dr A", "why": "x"}] * 9),
         "more than 8 entries (ovr)"),
        (_set("items", [{"id": "i", "name": "n", "slot": "lunch", "days": 127}, "x"]),
         "a member has the wrong JSON type (items[1])"),
    ],
)  # fmt: skip
def test_each_refusal_says_what_is_wrong_and_where(change, words):
    assert _words(change) == words


def test_the_numbers_only_the_device_knows_are_in_the_words():
    def big_d3_dose(obj):
        obj["comp"][0]["per"] = 5000
        obj["doses"][1]["pills"] = 16

    assert _words(big_d3_dose) == "a dose of 80000 is more than the 65535 a record holds " + (
        "(doses[1].pills)"
    )


def test_a_refusal_without_its_schedule_still_says_what_and_where():
    # a refused push that left no copy, or a firmware newer than this host
    assert refusal.describe(device.E_HOPPER, ["comp", 1, "hopper"], []) == (
        "hopper ? is used twice (comp[1].hopper)"
    )
    assert refusal.describe(99, ["doses"], [3]) == "refusal 99 [3] (doses)"
    assert refusal.short_name(99) == "99"


def test_an_odd_reply_still_gives_one_line():
    # a faulty or newer firmware's refusal members: no traceback, still what and where
    assert refusal.explain_reply({"code": "x", "path": None, "values": 5}) == "refusal 0 []"
    assert refusal.explain_reply({"code": device.E_EMPTY, "path": "comp"}) == "it must not be empty"


def test_the_log_names_the_refusal_by_its_short_name():
    record = {"seq": 4, "t": 0, "kind": "error", "code": logrec.ERR_SCHEDULE_REJECTED}
    names = Names(None).describe({**record, "detail": device.E_HOPPER})
    assert names["detail"] == "hopper_twice"
    other = {**record, "code": logrec.ERR_LOG_CORRUPT, "detail": device.E_HOPPER}
    assert Names(None).describe(other)["detail"] == str(device.E_HOPPER)  # bytes, not a code


def _raw(text: bytes) -> bytes:
    """Bytes with a correct sha256 member over `text` (not necessarily JSON)."""
    digest = hashlib.sha256(text + b"}").hexdigest().encode()
    return text + b',"sha256":"' + digest + b'"}'


def _refused(data: bytes) -> device.ScheduleError:
    with pytest.raises(device.ScheduleError) as refused:
        device.parse(data)
    return refused.value


def _changed(change) -> bytes:
    obj = _bone_health()
    change(obj)
    return with_hash(obj)


def _many_slots(obj):  # a dose in each of 20 slots: the busiest day outgrows a checkpoint
    obj["slots"] = [
        {"id": f"s{i}", "at": 10 * i, "early": 0, "late": 5, "fat": 0, "meal": 0} for i in range(20)
    ]
    obj["doses"] = [
        {"id": f"k{i}", "comp": "k2", "slot": f"s{i}", "pills": 1, "days": 127} for i in range(20)
    ]


def _week_of_d3(obj):
    obj["caps"]["vitd"] = 20000
    obj["ovr"] = [{"rule": "D3-UL", "by": "Dr A", "why": "repletion"}]
    obj["comp"][0]["per"] = 10000


# A schedule the device refuses for each reason it has, as a file can reach it (made by
# hand: the host's own checks would refuse most of these first).
EVERY_REFUSAL = [
    (device.E_FORMAT, _raw(b'{"v":1,,')),
    (device.E_HASH, with_hash(_bone_health()).replace(b'"bone-health"', b'"bone-healthy"')),
    (device.E_NO_HASH, json.dumps(_bone_health()).encode()),
    (device.E_VERSION, _changed(_set("v", 2))),
    (device.E_NOT_OBJECT, _changed(_set("caps", []))),
    (device.E_NOT_LIST, _changed(_set("comp", 5))),
    (device.E_STRUCTURE, _changed(_set("items", ["x"]))),
    (device.E_RANGE, _changed(_set("slots", 1, "at", 5000))),
    (device.E_ID, _changed(_set("doses", 1, "id", "d3 lunch"))),
    (device.E_TEXT, _changed(_set("ovr", [{"rule": "D3-UL", "by": " ", "why": "x"}]))),
    (device.E_NAME, _changed(_set("name", "Plan\x07"))),
    (device.E_NAME_LONG, _changed(_set("name", "µ" * 33))),
    (device.E_NUTRIENT, _changed(_set("comp", 0, "nut", "vitc"))),
    (device.E_FORM, _changed(_set("comp", 0, "form", "ca_citrate"))),
    (device.E_HOPPER, _changed(_set("comp", 1, "hopper", 0))),
    (device.E_UNKNOWN_ID, _changed(_set("doses", 0, "slot", "brunch"))),
    (device.E_DUPLICATE_ID, _changed(_set("doses", 1, "id", "ca-breakfast"))),
    (device.E_KEY_COLLISION, _changed(lambda o: [_set("doses", i, "id", n)(o)
                                                 for i, n in ((0, "byt"), (1, "daa"))])),
    (device.E_CAP, _changed(_set("caps", "ca", 2600))),
    (device.E_CEILING, _changed(_set("caps", "vitd", 1_000_000))),
    (device.E_CAP_NUTRIENT, _changed(_set("caps", "iron", 10))),
    (device.E_NO_CAP, _changed(_set("caps", {"ca": 500, "mk7": 100}))),
    (device.E_DOSE_SIZE, _changed(lambda o: [_set("comp", 2, "per", 5000)(o),
                                             _set("doses", 0, "pills", 16)(o)])),
    (device.E_DOSE_CEILING, _changed(lambda o: [_week_of_d3(o),
                                                _set("comp", 0, "per", 60000)(o)])),
    (device.E_WEEK_CEILING, _changed(lambda o: [_week_of_d3(o),
                                                _set("doses", 1, "pills", 2)(o)])),
    (device.E_TOO_MANY, _changed(_set("ovr", [{"rule": "D3-UL", "by": "A", "why": "x"}] * 9))),
    (device.E_CHECKPOINT, _changed(_many_slots)),
    (device.E_EMPTY, _changed(_set("remind", "steps", []))),
    (device.E_UTC_ENTRY, _changed(_set("utc", [[2, 60], 5]))),
    (device.E_STEP_ENTRY, _changed(_set("remind", "steps", [[0, 1], [5]]))),
    (device.E_UNSORTED, _changed(_set("remind", "steps", [[0, 1], [0, 2]]))),
    (device.E_FIRST_STEP, _changed(_set("remind", "steps", [[5, 1]]))),
    (device.E_SLOT_ORDER, _changed(_set("slots", 1, "early", 400))),
]  # fmt: skip


@pytest.mark.parametrize(("code", "data"), EVERY_REFUSAL, ids=refusal.short_name)
def test_every_refusal_the_device_makes_has_whole_words(code, data):
    refused = _refused(data)
    assert refused.code == code
    words = refusal.explain(refused, data)
    # the words took every value the device sent: no fallback, no placeholder, nothing unknown
    assert not words.startswith(refusal.short_name(code)) and "{" not in words, words
    assert "?" not in words, words


def test_every_code_is_among_the_refusals_above():
    assert {code for code, _ in EVERY_REFUSAL} == set(CODES.values())
