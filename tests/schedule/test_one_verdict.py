"""One verdict: what validate accepts the firmware's own check accepts, on CPython and under
the real MicroPython unix port, with the same log keys; and what the device would refuse is
a located finding at the host (DEVICE), never a surprise after a push."""

from __future__ import annotations

import json
import string
import subprocess
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schedule_builder import base, write

from dispenser.core import logrec
from dispenser.core import schedule as device
from pillctl.micropython import micropython_command
from pillctl.schedule import check_file

ROOT = Path(__file__).resolve().parents[2]
_MP_KEYS = """
import sys, json
from dispenser.core import schedule
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        data = f.read()
    try:
        s = schedule.parse(data)
        print(json.dumps([[e.id, e.key] for e in s.doses + s.items] + [[x, k] for x, k in
              zip([x.id for x in s.slots], s.slot_keys)]))
    except schedule.ScheduleError as exc:
        print(json.dumps(["refused", exc.code, exc.path, exc.values]))
"""


def _keys_on_micropython(tmp_path: Path, files: list[Path]) -> list:
    script = tmp_path / "keys.py"
    script.write_text(_MP_KEYS)
    env = {"MICROPYPATH": f".frozen:{ROOT / 'firmware'}"}
    result = subprocess.run(
        [*micropython_command(), str(script), *map(str, files)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _keys_on_cpython(data: bytes) -> list:
    s = device.parse(data)
    entries = [[e.id, e.key] for e in s.doses + s.items]
    return entries + [[slot.id, key] for slot, key in zip(s.slots, s.slot_keys, strict=True)]


def _mostly(good: st.SearchStrategy, bad: st.SearchStrategy) -> st.SearchStrategy:
    """``good`` nine times in ten, so many generated schedules pass and reach the device."""
    return st.integers(0, 9).flatmap(lambda n: bad if n == 0 else good)


_IDS = _mostly(
    st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True),
    st.text(string.ascii_letters + "-_ .é😀Ω", min_size=1, max_size=14),
)
_NAMES = _mostly(
    st.from_regex(r"[A-Za-z][A-Za-z0-9 .()-]{0,31}", fullmatch=True),
    st.text(string.printable + "é😀Ωµ", max_size=34),
)


@st.composite
def _schedules(draw) -> dict:
    document = base()
    document["name"] = draw(_NAMES)
    meals = [meal["name"] for meal in document["meals"]]
    for meal in document["meals"]:
        if draw(st.booleans()):
            meal["name"] = draw(_IDS)
    renamed = [meal["name"] for meal in document["meals"]]
    for entry in document["doses"]:
        entry["meal"] = renamed[meals.index(entry["meal"])]
        entry["id"] = draw(_IDS)
    for extra in range(draw(_mostly(st.integers(0, 28), st.integers(29, 36)))):
        document["doses"].append(
            {"id": f"x{extra}", "compartment": "k2", "pills": 1, "meal": renamed[2],
             "days": [draw(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]))]}
        )  # fmt: skip
    document["reminder_items"] = [
        {"id": draw(_IDS), "name": draw(_NAMES), "medication": "digoxin", "meal": renamed[1]}
        for _ in range(draw(_mostly(st.integers(0, 8), st.integers(9, 10))))
    ]
    if not document["reminder_items"]:
        del document["reminder_items"]
    return document


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(_schedules(), min_size=12, max_size=12))
def test_what_validate_accepts_the_device_accepts_with_the_same_keys(tmp_path, documents):
    accepted = []
    for index, document in enumerate([base(), *documents]):
        result = check_file(write(tmp_path, document, f"s{index}"))
        if result.ok:
            assert result.compiled is not None
            path = tmp_path / f"s{index}.json"
            path.write_bytes(result.compiled)
            accepted.append((path, _keys_on_cpython(result.compiled)))
        else:
            assert any(f.is_error and f.line for f in result.findings)
    print(f"{len(accepted)} of {len(documents) + 1} schedules accepted")
    assert accepted  # the base schedule at least
    if accepted:
        on_micropython = _keys_on_micropython(tmp_path, [path for path, _ in accepted])
        assert on_micropython == [keys for _, keys in accepted]


def _colliding_ids() -> tuple[str, str]:
    seen: dict[int, str] = {}
    for n in range(100_000):
        ident = f"d{n}"
        key = logrec.id_key(ident)
        if key in seen:
            return seen[key], ident
        seen[key] = ident
    raise AssertionError("no collision")


def _only_error(tmp_path, document: dict):
    result = check_file(write(tmp_path, document))
    errors = [finding for finding in result.findings if finding.is_error]
    assert len(errors) == 1, [f.render() for f in result.findings]
    assert errors[0].line is not None
    return errors[0]


def test_ids_whose_log_keys_collide_are_refused_where_they_are(tmp_path):
    first, second = _colliding_ids()
    document = base()
    document["doses"][0]["id"] = first
    document["doses"][3]["id"] = second
    error = _only_error(tmp_path, document)
    assert error.rule == "DEVICE" and "hashes to the same log key as another id" in error.message
    assert error.path in ("doses[0]", "doses[3]")


def test_more_doses_or_items_than_the_device_holds_are_refused_before_any_check(tmp_path):
    document = base()
    document["doses"] += [
        {"id": f"k{n}", "compartment": "k2", "pills": 1, "meal": "lunch", "days": ["mon"]}
        for n in range(device.MAX_DOSES - 3)
    ]
    error = _only_error(tmp_path, document)
    assert error.rule == "SCHEMA" and f"at most {device.MAX_DOSES}" in error.message
    assert error.path == "doses"
    document = base()
    document["reminder_items"] = [
        {"id": f"i{n}", "medication": "digoxin", "meal": "lunch"}
        for n in range(device.MAX_ITEMS + 1)
    ]
    assert f"at most {device.MAX_ITEMS}" in _only_error(tmp_path, document).message


def test_a_compartment_no_dose_uses_still_gets_a_cap(tmp_path):
    document = base()
    document["doses"] = [d for d in document["doses"] if d["compartment"] != "k2"]
    result = check_file(write(tmp_path, document))
    assert result.ok, [f.render() for f in result.findings]
    assert result.compiled is not None
    assert json.loads(result.compiled)["caps"]["mk7"] == 0
    assert device.parse(result.compiled).caps[2] == 0


def test_names_and_signers_are_limited_as_the_device_counts(tmp_path):
    document = base()
    document["name"] = "😀" * 16  # 16 characters, 64 bytes of UTF-8: as many as the device takes
    result = check_file(write(tmp_path, document))
    assert result.ok and device.parse(result.compiled).name == "😀" * 16
    document["name"] += "a"
    error = _only_error(tmp_path, document)
    assert error.path == "name" and "is 65 bytes in UTF-8; at most 64" in error.message
    assert '(value "😀😀😀' in error.render()  # shown as written, not as escapes
    document = base()
    document["overrides"] = [{"rule": "D3-UL", "clinician": "x" * 65, "reason": "r"}]
    error = _only_error(tmp_path, document)
    assert error.path == "overrides[0].clinician" and "at most 64" in error.message
    assert device.MAX_SIGNER_LEN == 64
