"""``pillctl show``: timeline, totals against RDA/UL, findings and overrides."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from schedule_builder import base, write

from pillctl.cli import main

SCHEDULES = Path(__file__).resolve().parents[2] / "schedules"


def _show(path: Path):
    return CliRunner().invoke(main, ["show", str(path)], env={"COLUMNS": "200"})


def test_show_lists_each_slot_with_what_drops_and_the_totals():
    result = _show(SCHEDULES / "bone-health.toml")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    lunch = next(line for line in lines if "lunch (meal, fat)" in line)
    assert "12:30" in lunch and "1 x d3 (hopper 0): 2000 IU" in lunch
    assert any("1 x k2 (hopper 1): 100 µg" in line for line in lines)
    calcium = next(line for line in lines if "calcium (elemental) incl. diet" in line)
    assert "1200 mg" in calcium and "RDA 1200 mg" in calcium and "2000 mg" in calcium
    assert "no findings" in result.output


def test_show_prints_info_findings_and_reminder_items():
    fusion = _show(SCHEDULES / "spinal-fusion-regimen.toml")
    assert "info D3-LOW" in fusion.output and "250 IU" in fusion.output
    levothyroxine = _show(SCHEDULES / "levothyroxine-morning.toml")
    assert "remind: levothyroxine 75 mcg" in levothyroxine.output


def test_show_names_the_override_and_weekday_only_doses(tmp_path):
    document = base()
    document["doses"][1].update(pills=3, days=["mon", "sun"])
    document["overrides"] = [{"rule": "D3-UL", "clinician": "Dr A", "reason": "deficiency"}]
    result = _show(write(tmp_path, document))
    assert result.exit_code == 0
    assert "override D3-UL by Dr A: deficiency" in result.output
    assert "[mon,sun]" in result.output
    vitamin_d = next(line for line in result.output.splitlines() if "vitamin D3 " in line)
    assert "0 IU to 6000 IU" in vitamin_d  # the weekday dose counts only on its days


def test_show_exits_1_on_errors(tmp_path):
    document = base()
    document["profile"]["age"] = 17
    result = _show(write(tmp_path, document))
    assert result.exit_code == 1
    assert "error AGE-ADULT" in result.output
