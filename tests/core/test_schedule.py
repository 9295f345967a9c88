"""The device re-checks every schedule: hash, version, structure, nutrients, hoppers, caps."""

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
        assert exc.code == schedule.E_HASH


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
    assert _error_code(obj) == schedule.E_NUTRIENT
    obj = bone_health_obj()
    obj["caps"]["iron"] = 10
    assert _error_code(obj) == schedule.E_NUTRIENT


def test_bad_or_shared_hoppers_are_refused():
    obj = bone_health_obj()
    obj["comp"][0]["hopper"] = 3
    assert _error_code(obj) == schedule.E_STRUCTURE
    obj = bone_health_obj()
    obj["comp"][1]["hopper"] = 0
    assert _error_code(obj) == schedule.E_HOPPER


def test_a_nutrient_without_cap_is_refused():
    obj = bone_health_obj()
    del obj["caps"]["ca"]
    assert _error_code(obj) == schedule.E_CAP


def test_structure_errors_are_refused():
    cases = []
    obj = bone_health_obj()
    obj["slots"][1]["early"] = 400  # overlaps breakfast
    cases.append(obj)
    obj = bone_health_obj()
    obj["doses"][0]["slot"] = "brunch"
    cases.append(obj)
    obj = bone_health_obj()
    obj["doses"][0]["pills"] = 0
    cases.append(obj)
    obj = bone_health_obj()
    obj["doses"][1]["id"] = "ca-breakfast"  # duplicate id
    cases.append(obj)
    obj = bone_health_obj()
    obj["slots"][2]["late"] = 400  # crosses midnight
    cases.append(obj)
    obj = bone_health_obj()
    obj["remind"]["steps"] = [[5, 1]]
    cases.append(obj)
    obj = bone_health_obj()
    obj["comp"] = {"d3": 1}  # wrong JSON type
    cases.append(obj)
    obj = bone_health_obj()
    obj["utc"] = [[2, 60], [1, 120]]
    cases.append(obj)
    for obj in cases:
        assert _error_code(obj) == schedule.E_STRUCTURE


def test_not_json_is_refused():
    try:
        schedule.parse(schedule_bytes(bone_health_obj())[:-100] + b"}")
        raise AssertionError("accepted garbage")
    except schedule.ScheduleError:
        pass


def test_more_overrides_than_rules_are_refused():
    obj = bone_health_obj()
    obj["ovr"] = [{"rule": "D3-UL", "by": "Dr A", "why": "x"}] * (schedule.MAX_OVERRIDES + 1)
    assert _error_code(obj) == schedule.E_STRUCTURE


def test_blank_or_non_ascii_signers_are_refused():
    for by in (" ", "", "Dr. \u00c5se", "Dr. A\n"):
        obj = bone_health_obj()
        obj["ovr"] = [{"rule": "D3-UL", "by": by, "why": "x"}]
        assert _error_code(obj) == schedule.E_STRUCTURE, by


def test_override_without_a_signature_is_refused():
    obj = bone_health_obj()
    obj["caps"]["vitd"] = 6000
    obj["ovr"] = [{"rule": "D3-UL", "why": "deficiency"}]
    assert _error_code(obj) == schedule.E_STRUCTURE


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
        schedule.E_CAP, ("doses", 1, "pills"), (80000, schedule.MAX_AMOUNT))  # fmt: skip
    obj = bone_health_obj()
    obj["caps"]["ca"] = 2600
    err = _refusal(obj)
    assert (err.code, err.path, err.values) == (schedule.E_CAP, ("caps", "ca"), (2600, 2500))
    obj = bone_health_obj()
    obj["slots"][1]["at"] = 5000
    err = _refusal(obj)
    assert (err.path, err.values) == (("slots", 1, "at"), (5000, 0, 1439))
    obj = bone_health_obj()
    obj["doses"][1]["comp"] = "nowhere"
    assert _refusal(obj).path == ("doses", 1, "comp")
    obj = bone_health_obj()
    obj["remind"]["steps"] = []
    assert _refusal(obj).path == ("remind", "steps")
