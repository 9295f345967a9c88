"""The example schedules and the device compiler (docs/device-schedule.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from schedule_builder import base, write

from pillctl.cli import main
from pillctl.schedule import ScheduleRejected, check_file, compile_file, verify
from pillctl.schedule.hashing import embedded_hash

WORKTREE = Path(__file__).resolve().parents[2]
SCHEDULES = WORKTREE / "schedules"
REFERENCE = WORKTREE / "tests" / "data" / "device" / "bone-health.json"
REFERENCE_DAY = date(2026, 11, 26)
"""The compile day of the reference device file: its first UTC entry is this UTC midnight."""

EXPECTED_FINDINGS = {
    "bone-health.toml": [],
    "spinal-fusion-regimen.toml": [("D3-LOW", "info")],
    "levothyroxine-morning.toml": [],
}


def test_every_example_is_pinned():
    assert sorted(p.name for p in SCHEDULES.glob("*.toml")) == sorted(EXPECTED_FINDINGS)


@pytest.mark.parametrize("name", sorted(EXPECTED_FINDINGS))
def test_example_validates_with_exactly_its_expected_findings(name):
    result = check_file(SCHEDULES / name)
    assert result.ok
    assert [(f.rule, f.severity) for f in result.findings] == EXPECTED_FINDINGS[name]


def test_bone_health_compiles_to_the_reference_device_file():
    assert compile_file(SCHEDULES / "bone-health.toml", REFERENCE_DAY) == REFERENCE.read_bytes()


def test_reference_device_file_passes_the_hash_rule():
    data = REFERENCE.read_bytes()
    assert verify(data)
    tampered = data.replace(b'"per":2000', b'"per":4000')
    assert not verify(tampered)


def test_compile_via_cli_is_byte_identical_across_runs_and_under_4_kb(tmp_path):
    outputs = []
    for run in range(2):
        out = tmp_path / f"run{run}.json"
        args = ["compile", str(SCHEDULES / "bone-health.toml"), "-o", str(out), "--start"]
        result = CliRunner().invoke(main, [*args, "2027-03-01"])
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) < 4096
    assert embedded_hash(outputs[0]) in result.output


def test_compile_as_a_real_process_matches_the_api(tmp_path):
    out = tmp_path / "bone.json"
    env = {**os.environ, "PYTHONPATH": str(WORKTREE / "host")}
    args = ["compile", str(SCHEDULES / "bone-health.toml"), "-o", str(out), "--start"]
    completed = subprocess.run(
        [sys.executable, "-m", "pillctl", *args, "2026-11-26"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert out.read_bytes() == REFERENCE.read_bytes()


def test_utc_table_covers_two_years_of_dst_changes():
    device = json.loads(compile_file(SCHEDULES / "bone-health.toml", date(2027, 6, 1)))
    # 1 June 2027 00:00 UTC, CEST in force; then four changes up to 1 June 2029.
    assert device["utc"][0] == [1811808000, 120]
    assert [offset for _, offset in device["utc"]] == [120, 60, 120, 60, 120]
    assert device["utc"][1][0] == 1824944400  # 2027-10-31 01:00 UTC


def test_fusion_regimen_carries_its_six_month_range_and_caps():
    device = json.loads(compile_file(SCHEDULES / "spinal-fusion-regimen.toml", REFERENCE_DAY))
    assert device["caps"] == {"ca": 1200, "mk4": 45000, "vitd": 250}
    first = device["doses"][0]
    assert (first["from"], first["to"]) == (20829, 21009)  # 2027-01-11 .. 2027-07-10
    assert [slot["id"] for slot in device["slots"]] == ["breakfast", "lunch", "dinner"]


def test_levothyroxine_item_becomes_a_slot_an_item_and_a_spacing_rule():
    device = json.loads(compile_file(SCHEDULES / "levothyroxine-morning.toml", REFERENCE_DAY))
    assert device["slots"][0] == {
        "at": 390, "early": 15, "fat": 0, "id": "t0630", "late": 45, "meal": 0,
    }  # fmt: skip
    assert device["items"] == [
        {"days": 127, "id": "levo", "med": "levothyroxine", "name": "levothyroxine 75 mcg",
         "slot": "t0630"},
    ]  # fmt: skip
    assert device["spacing"] == [
        {"gap": 240, "item": "levo", "nut": "ca", "rule": "CA-LEVO", "wait": 240}
    ]
    assert "breakfast" not in {slot["id"] for slot in device["slots"]}  # no doses there


@pytest.mark.parametrize(
    "medication, rule, gap, wait",
    [
        # gap: calcium after the medicine; wait: the medicine's reminder after calcium
        ("tetracycline", "CA-TETRA", 120, 240),
        ("quinolone", "CA-QUIN", 120, 120),
        ("ciprofloxacin", "CA-QUIN", 120, 360),
        ("moxifloxacin", "CA-QUIN", 240, 480),
        ("iron", "CA-IRON", 120, 120),
        ("zinc", "CA-IRON", 120, 120),
        ("bisphosphonate", "CA-BISPHOS", 60, 0),
    ],
)
def test_spacing_rules_for_each_reminder_only_medication(tmp_path, medication, rule, gap, wait):
    document = base()
    document["doses"].pop()  # no calcium at dinner: moxifloxacin's 8 h after it fit nowhere
    document["reminder_items"] = [{"id": "med", "medication": medication, "at": "02:00"}]
    device = json.loads(compile_file(write(tmp_path, document), REFERENCE_DAY))
    assert device["spacing"] == [
        {"gap": gap, "item": "med", "nut": "ca", "rule": rule, "wait": wait}
    ]


def test_weekday_doses_and_overrides_compile(tmp_path):
    document = base()
    document["doses"][1]["days"] = ["mon", "sun"]
    document["doses"][1]["pills"] = 3
    document["overrides"] = [{"rule": "D3-UL", "clinician": "Dr A", "reason": "deficiency"}]
    device = json.loads(compile_file(write(tmp_path, document), REFERENCE_DAY))
    assert device["doses"][1]["days"] == 0b1000001
    assert device["caps"]["vitd"] == 6000
    assert device["ovr"] == [{"by": "Dr A", "rule": "D3-UL", "why": "deficiency"}]


def test_compile_refuses_a_schedule_with_errors(tmp_path):
    document = base()
    document["profile"]["medications"] = [{"kind": "warfarin"}]
    with pytest.raises(ScheduleRejected, match="K2-VKA") as rejected:
        compile_file(write(tmp_path, document), REFERENCE_DAY)
    assert [f.rule for f in rejected.value.result.findings] == ["K2-VKA"]


def test_validate_json_and_exit_codes(tmp_path):
    warning = base()
    warning["doses"][1]["meal"] = "breakfast"  # D3 without fat: FAT-MEAL warning
    result = CliRunner().invoke(main, ["validate", "--json", str(write(tmp_path, warning))])
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["ok"] is True
    assert [f["rule"] for f in report["findings"]] == ["FAT-MEAL"]
    assert report["findings"][0]["path"] == "doses[1]"
