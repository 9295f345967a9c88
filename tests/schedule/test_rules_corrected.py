"""The corrected rules: CA-QUIN per quinolone, CA-BISPHOS earlier the same day, CHILD-UL by
age band. The base schedule gives calcium at 07:30 (breakfast) and 18:30 (dinner)."""

from __future__ import annotations

import pytest
from schedule_builder import base, compartment, write

from pillctl.schedule import check_file
from pillctl.schedule.rules import CHILD_BANDS


def _fired(tmp_path, document: dict) -> dict[str, str]:
    result = check_file(write(tmp_path, document))
    assert result.schedule is not None, [f.render() for f in result.findings]
    return {finding.rule: finding.severity for finding in result.findings}


def _with_medication(kind: str, at: str, name: str | None = None) -> dict:
    document = base()
    medication = {"kind": kind, "at": at} | ({"name": name} if name else {})
    document["profile"]["medications"] = [medication]
    return document


@pytest.mark.parametrize(
    "kind, name, at, trips",
    [
        # Measured from the calcium's whole window: breakfast 07:00-09:00, dinner 18:00-20:30.
        # ciprofloxacin: >= 2 h before calcium or >= 6 h after it
        ("quinolone", "Ciprofloxacin", "13:00", True),  # breakfast calcium 4 h before
        ("quinolone", "Ciprofloxacin", "14:59", True),  # 5 h 59 after breakfast's late edge
        ("quinolone", "Ciprofloxacin", "15:00", False),  # 6 h after it, 3 h before dinner
        ("ciprofloxacin", None, "13:00", True),
        ("quinolone", None, "13:00", False),  # other quinolones: 2 h either way
        ("quinolone", "levofloxacin", "13:00", False),
        ("quinolone", None, "10:59", True),  # 1 h 59 after breakfast's late edge
    ],
)
def test_ca_quin_windows_follow_each_label(tmp_path, kind, name, at, trips):
    fired = _fired(tmp_path, _with_medication(kind, at, name))
    assert ("CA-QUIN" in fired) == trips, fired


@pytest.mark.parametrize(
    "kind, name, at, trips",
    [
        # moxifloxacin: >= 4 h before calcium or >= 8 h after it; dinner's window here is
        # 18:00-19:00, so 03:00 is the one minute that is 8 h after it and 4 h before
        # breakfast's early edge (07:00)
        ("moxifloxacin", None, "02:59", True),  # 7 h 59 after dinner's late edge
        ("moxifloxacin", None, "03:00", False),
        ("quinolone", "moxifloxacin", "03:01", True),  # breakfast calcium 3 h 59 later
    ],
)
def test_moxifloxacin_fits_only_between_the_windows(tmp_path, kind, name, at, trips):
    document = _with_medication(kind, at, name)
    document["meals"][2]["late_minutes"] = 30
    assert ("CA-QUIN" in _fired(tmp_path, document)) == trips


def test_ca_bisphos_flags_calcium_earlier_the_same_day(tmp_path):
    # 2 h 30 after breakfast's calcium is no gap problem, but the bisphosphonate must be
    # the first thing after the overnight fast.
    assert _fired(tmp_path, _with_medication("bisphosphonate", "10:00"))["CA-BISPHOS"] == "warning"
    assert "CA-BISPHOS" not in _fired(tmp_path, _with_medication("bisphosphonate", "06:00"))


@pytest.mark.parametrize("age, d3_ul, ca_ul", [(0, 1000, 1000), (2, 2500, 2500), (6, 3000, 2500),
                                               (15, 4000, 3000)])  # fmt: skip
def test_child_ul_uses_the_age_bands_limits(tmp_path, age, d3_ul, ca_ul):
    def child(d3: int, diet: int) -> dict:
        document = base()
        document["profile"].update(age=age, dietary_calcium_mg=diet)
        document["overrides"] = [{"rule": "AGE-ADULT", "clinician": "Dr. A", "reason": "child"}]
        compartment(document, "d3").update(strength=d3)
        return document

    # calcium from the dispenser is 500 mg/day; the diet makes up the rest
    assert "CHILD-UL" not in _fired(tmp_path, child(d3_ul, ca_ul - 500))
    assert _fired(tmp_path, child(d3_ul + 1, 0))["CHILD-UL"] == "error"
    assert _fired(tmp_path, child(d3_ul, ca_ul - 499))["CHILD-UL"] == "error"


def test_child_bands_cover_every_age_under_19():
    assert CHILD_BANDS[-1][0] == 18
