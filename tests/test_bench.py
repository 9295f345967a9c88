"""make bench on a fresh clone: its MicroPython drivers run against the current firmware,
a failing figure says what failed, and a run keeps the figures it did not measure."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import __main__ as bench_main  # noqa: E402
from bench.alloc_figures import ALLOC_DRIVER  # noqa: E402
from bench.engine_figures import SCHEDULE  # noqa: E402
from bench.log_year import COST_DRIVER  # noqa: E402
from bench.micropython_run import json_line  # noqa: E402


def test_a_micropython_failure_is_reported_in_micropython_s_words(tmp_path):
    script = tmp_path / "fails.py"
    script.write_text("import dispenser.core.logrec\nraise ValueError('no such figure')\n")
    with pytest.raises(RuntimeError, match="ValueError: no such figure"):
        json_line(str(script))


def test_the_allocation_driver_runs_on_the_current_engine(tmp_path):
    figures = json_line(str(ALLOC_DRIVER), str(SCHEDULE), str(tmp_path / "log"), "3")
    assert figures["wakes"] > 0 and figures["records"] > 0


def test_the_log_cost_driver_runs_on_the_current_commands(tmp_path):
    # It drives the firmware's own Commands (log.read, status) on a stand-in App: every
    # attribute a command reads must be there, or the per-request figures fail.
    json_line(str(ALLOC_DRIVER), str(SCHEDULE), str(tmp_path / "log"), "3")
    figures = json_line(str(COST_DRIVER), str(SCHEDULE), str(tmp_path / "log"))
    assert figures["status_us"] > 0 and figures["read_last_us"] > 0


def test_a_run_keeps_unmeasured_figures_and_names_a_failure(tmp_path, monkeypatch, capsys):
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"soak_cycles": {"value": 1000, "unit": "cycles"}}))

    def measured():
        return "measured_ms", 1.5, "ms"

    def broken():
        raise RuntimeError("MicroPython exited with 1:\nOSError: 2")

    monkeypatch.setattr(bench_main, "RESULTS", results)
    monkeypatch.setattr(bench_main, "all_figures", lambda: iter([measured, broken]))
    assert bench_main.main([]) == 1
    assert json.loads(results.read_text()) == {
        "soak_cycles": {"value": 1000, "unit": "cycles"},
        "measured_ms": {"value": 1.5, "unit": "ms"},
    }
    assert "broken: failed: RuntimeError: MicroPython exited with 1:\nOSError: 2" in (
        capsys.readouterr().out
    )
