"""The device's refusal located from its structured error (code, path, values), never from
its message text (issue 18 item 4)."""

from __future__ import annotations

import json
import subprocess
import sys

from schedule_builder import base, write

from pillctl.schedule import check_file
from pillctl.schedule.device_check import device_findings
from pillctl.schedule.hashing import with_hash


def _accepted(tmp_path):
    result = check_file(write(tmp_path, base()))
    assert result.ok and result.schedule is not None and result.compiled is not None
    return result.schedule, json.loads(result.compiled)


def _refusal(schedule, obj):
    obj.pop("sha256", None)
    findings = device_findings(schedule, with_hash(obj))
    assert len(findings) == 1 and findings[0].rule == "DEVICE"
    return findings[0]


def test_a_refused_member_points_at_its_entry_whatever_the_message_says(tmp_path):
    schedule, obj = _accepted(tmp_path)
    obj["doses"][1]["comp"] = "nowhere"  # the dose's id is in no word of the refusal
    finding = _refusal(schedule, obj)
    assert finding.message == (
        'the dispenser would refuse this schedule: no comp has the id "nowhere" (doses[1].comp)'
    )
    assert finding.path == schedule.doses[1].path


def test_a_cap_over_the_absolute_cap_points_at_the_doses(tmp_path):
    schedule, obj = _accepted(tmp_path)
    obj["caps"]["ca"] = 2600
    finding = _refusal(schedule, obj)
    assert finding.path == "doses"
    assert finding.message.endswith(
        "cap 2600 is over the absolute cap of 2500 without its override (caps.ca)"
    )


def test_the_calcium_limit_of_adults_is_the_firmware_s_absolute_cap():
    # Change the firmware's number and the host's rule follows: it is written once.
    code = (
        "from dispenser.core import nutrients\n"
        "nutrients.ABSOLUTE_CAPS = (4000, 2400, None, 45000)\n"
        "from pillctl.schedule import rules\n"
        "print(rules.calcium_ul_mg(30), '2400 mg' in rules.THRESHOLDS['CA-UL'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["2400", "True"]
