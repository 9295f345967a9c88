"""The device re-checks every schedule: hash, version, structure, nutrients, hoppers, caps."""

import hashlib
from binascii import hexlify

from coretools import bone_health_bytes, bone_health_obj, parse, schedule_bytes

from dispenser.core import schedule


def _error_code(obj):
    try:
        parse(obj)
    except schedule.ScheduleError as exc:
        return exc.code
    return 0


def test_reference_example_parses():
    s = schedule.parse(bone_health_bytes())
    assert s.name == "bone-health"
    assert s.sha.startswith("b55a6a72")
    assert s.hash_prefix() == 0xB55A6A72
    assert [d.id for d in s.doses] == ["ca-breakfast", "d3-lunch", "k2-lunch", "ca-dinner"]
    assert s.caps == [2000, 500, 100, -1]
    assert s.doses[1].amount == 2000 and s.doses[1].comp.hopper == 0
    assert s.steps == [(0, 1), (10, 2), (20, 3)] and s.snooze == 10


def test_tampered_content_fails_the_hash():
    data = bone_health_bytes().replace(b'"pills":1', b'"pills":2', 1)
    try:
        schedule.parse(data)
        raise AssertionError("accepted a tampered schedule")
    except schedule.ScheduleError as exc:
        assert exc.code == schedule.E_HASH


def test_missing_hash_is_refused():
    data = bone_health_bytes()
    try:
        schedule.parse(data[: data.rfind(b',"sha256"')] + b"}")
        raise AssertionError("accepted a schedule without hash")
    except schedule.ScheduleError as exc:
        assert exc.code == schedule.E_NO_HASH


def test_other_format_version_is_refused():
    obj = bone_health_obj()
    obj["v"] = 2
    assert _error_code(obj) == schedule.E_VERSION


def test_cap_over_absolute_needs_the_named_override():
    obj = bone_health_obj()
    obj["caps"]["vitd"] = 6000
    assert _error_code(obj) == schedule.E_CAP
    obj["ovr"] = [{"rule": "CA-UL", "by": "Dr A", "why": "wrong rule"}]
    assert _error_code(obj) == schedule.E_CAP
    obj["ovr"] = [{"rule": "D3-UL", "by": "Dr A", "why": "deficiency"}]
    assert parse(obj).caps[0] == 6000


def test_unknown_nutrient_and_wrong_form_are_refused():
    obj = bone_health_obj()
    obj["comp"][0]["nut"] = "vitc"
    assert _error_code(obj) == schedule.E_NUTRIENT
    obj = bone_health_obj()
    obj["comp"][0]["form"] = "ca_citrate"
    assert _error_code(obj) == schedule.E_FORM
    obj = bone_health_obj()
    obj["caps"]["iron"] = 10
    assert _error_code(obj) == schedule.E_CAP_NUTRIENT


def test_bad_or_shared_hoppers_are_refused():
    obj = bone_health_obj()
    obj["comp"][0]["hopper"] = 3
    assert _error_code(obj) == schedule.E_RANGE
    obj = bone_health_obj()
    obj["comp"][1]["hopper"] = 0
    assert _error_code(obj) == schedule.E_HOPPER


def test_a_nutrient_without_cap_is_refused():
    obj = bone_health_obj()
    del obj["caps"]["ca"]
    assert _error_code(obj) == schedule.E_NO_CAP


def test_each_structure_error_has_its_own_code():
    cases = []
    obj = bone_health_obj()
    obj["slots"][1]["early"] = 400  # overlaps breakfast
    cases.append((obj, schedule.E_SLOT_ORDER))
    obj = bone_health_obj()
    obj["doses"][0]["slot"] = "brunch"
    cases.append((obj, schedule.E_UNKNOWN_ID))
    obj = bone_health_obj()
    obj["doses"][0]["pills"] = 0
    cases.append((obj, schedule.E_RANGE))
    obj = bone_health_obj()
    obj["doses"][1]["id"] = "ca-breakfast"  # duplicate id
    cases.append((obj, schedule.E_DUPLICATE_ID))
    obj = bone_health_obj()
    obj["slots"][2]["late"] = 400  # crosses midnight
    cases.append((obj, schedule.E_RANGE))
    obj = bone_health_obj()
    obj["remind"]["steps"] = [[5, 1]]
    cases.append((obj, schedule.E_FIRST_STEP))
    obj = bone_health_obj()
    obj["remind"]["steps"] = [[0, 1], [0, 2]]
    cases.append((obj, schedule.E_UNSORTED))
    obj = bone_health_obj()
    obj["remind"]["steps"] = [[0, 1, 2]]
    cases.append((obj, schedule.E_STEP_ENTRY))
    obj = bone_health_obj()
    obj["remind"]["steps"] = []
    cases.append((obj, schedule.E_EMPTY))
    obj = bone_health_obj()
    obj["comp"] = {"d3": 1}  # wrong JSON type
    cases.append((obj, schedule.E_NOT_LIST))
    obj = bone_health_obj()
    obj["comp"][1] = 7  # an entry of the wrong JSON type
    cases.append((obj, schedule.E_STRUCTURE))
    obj = bone_health_obj()
    obj["utc"] = [[2, 60], [1, 120]]
    cases.append((obj, schedule.E_UNSORTED))
    obj = bone_health_obj()
    obj["utc"] = [[2, 60], 5]
    cases.append((obj, schedule.E_UTC_ENTRY))
    obj = bone_health_obj()
    obj["caps"] = [1]
    cases.append((obj, schedule.E_NOT_OBJECT))
    for obj, code in cases:
        assert _error_code(obj) == code, code


def test_not_json_is_refused():
    body = b'{"v": 1, oops'
    digest = hexlify(hashlib.sha256(body + b"}").digest())  # a correct hash of garbage
    try:
        schedule.parse(body + b',"sha256":"' + digest + b'"}')
        raise AssertionError("accepted garbage")
    except schedule.ScheduleError as err:
        assert err.code == schedule.E_FORMAT


def test_more_overrides_than_rules_are_refused():
    obj = bone_health_obj()
    obj["ovr"] = [{"rule": "D3-UL", "by": "Dr A", "why": "x"}] * 9
    err = _refusal(obj)
    assert (err.code, err.path, err.values) == (schedule.E_TOO_MANY, ("ovr",), (8,))


def test_blank_or_non_ascii_signers_are_refused():
    for by in (" ", "", "Dr. \u00c5se", "Dr. A\n"):
        obj = bone_health_obj()
        obj["ovr"] = [{"rule": "D3-UL", "by": by, "why": "x"}]
        err = _refusal(obj)
        assert (err.code, err.path) == (schedule.E_TEXT, ("ovr", 0, "by")), by


def test_override_without_a_signature_is_refused():
    obj = bone_health_obj()
    obj["caps"]["vitd"] = 6000
    obj["ovr"] = [{"rule": "D3-UL", "why": "deficiency"}]
    assert _error_code(obj) == schedule.E_TEXT


def _refusal(obj):
    try:
        schedule.parse(schedule_bytes(obj))
    except schedule.ScheduleError as err:
        return err
    raise AssertionError("accepted")


def test_a_refusal_names_the_member_and_the_numbers():
    # code, path and values: what the host locates a refusal by (issue 18 item 4)
    obj = bone_health_obj()
    obj["comp"][0]["per"] = 5000  # d3-lunch, doses[1]: 16 x 5000 IU
    obj["doses"][1]["pills"] = 16
    err = _refusal(obj)
    assert (err.code, err.path, err.values) == (
        schedule.E_DOSE_SIZE, ("doses", 1, "pills"), (80000, 0xFFFF))  # fmt: skip
    obj = bone_health_obj()
    obj["caps"]["ca"] = 2600  # what the schedule says is read at the path, not sent again
    err = _refusal(obj)
    assert (err.code, err.path, err.values) == (schedule.E_CAP, ("caps", "ca"), (2500,))
    obj = bone_health_obj()
    obj["slots"][1]["at"] = 5000
    err = _refusal(obj)
    assert (err.code, err.path, err.values) == (schedule.E_RANGE, ("slots", 1, "at"), (0, 1439))
    obj = bone_health_obj()
    obj["doses"][1]["comp"] = "nowhere"
    assert _refusal(obj).path == ("doses", 1, "comp")
    obj = bone_health_obj()
    obj["remind"]["steps"] = []
    assert _refusal(obj).path == ("remind", "steps")
    obj = bone_health_obj()
    obj["utc"][1][1] = 1000  # an offset out of range, in its table entry
    err = _refusal(obj)
    assert (err.code, err.path, err.values) == (schedule.E_RANGE, ("utc", 1, 1), (-900, 900))
    obj = bone_health_obj()
    obj["items"] = [{"id": "i", "name": "n", "slot": "lunch", "days": 127}, "x"]
    assert _refusal(obj).path == ("items", 1)  # a wrong JSON type, located all the same


def test_the_refusal_carries_no_words():
    # the words are the host's (pillctl.schedule.refusal): only numbers and keys on the device
    obj = bone_health_obj()
    obj["comp"][1]["hopper"] = 0
    err = _refusal(obj)
    assert err.args == (schedule.E_HOPPER,) and err.path == ("comp", 1, "hopper")
