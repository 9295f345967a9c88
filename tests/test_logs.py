"""pillctl logs: incremental pulls into the local store, resume after a pulled cable, export."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import ROOT, run_pillctl
from simhelpers import wait_hello

from dispenser.logstore import LogStore
from pillctl.commands.logs import pull
from pillctl.device import Device
from pillctl.errors import PillctlError
from pillctl.history import DeviceHistory
from pillctl.sim.firmware_image import install_source
from pillctl.sim.process import SimProcess
from pillctl.sim.seed import seed_log

BONE_HEALTH = ROOT / "schedules" / "bone-health.toml"


def test_logs_pull_only_new_records_and_export(sim_board, tmp_path, monkeypatch):
    env = {"PILLCTL_DATA_DIR": str(tmp_path / "data")}
    monkeypatch.setenv("PILLCTL_DATA_DIR", env["PILLCTL_DATA_DIR"])
    assert run_pillctl("push", str(BONE_HEALTH), "--port", sim_board.port).returncode == 0
    first = run_pillctl("logs", "--port", sim_board.port, env=env)
    assert first.returncode == 0, first.stderr
    assert "pulled" in first.stderr
    again = run_pillctl("logs", "--port", sim_board.port, env=env)
    assert "pulled 0 new records" in again.stderr

    assert run_pillctl("refill", "ca", "30", "--port", sim_board.port).returncode == 0
    out = tmp_path / "log.csv"
    third = run_pillctl("logs", "--port", sim_board.port, "-o", str(out), env=env)
    assert "pulled 1 new records" in third.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert rows[-1]["kind"] == "refill" and rows[-1]["count"] == "30"
    seqs = [int(r["seq"]) for r in rows]
    assert seqs == sorted(set(seqs))

    jsonl = run_pillctl("logs", "--port", sim_board.port, "--format", "jsonl", "--since",
                        str(seqs[-2]), env=env)  # fmt: skip
    assert [json.loads(line)["seq"] for line in jsonl.stdout.splitlines()] == [seqs[-1]]


def test_a_pull_cut_mid_transfer_keeps_what_it_got_and_resumes(tmp_path):
    fs = tmp_path / "board" / "fs"
    install_source(fs)
    seed_log(fs, 60_000, 131_072)
    expected = [record[0] for record in LogStore(str(fs / "log"), budget=131_072).records()]
    history = DeviceHistory("cut-test", tmp_path / "data")
    env = {"PILLCTL_SIM_LOG_BUDGET": "131072"}
    with SimProcess(tmp_path / "board", env=env) as board:
        assert board.control is not None
        with Device(board.port, timeout=1) as device:
            wait_hello(device)  # the short timeout is for the cut, not for a busy machine
            real_request = device.request
            reads = 0

            def cable_pulled_after_three_reads(verb, args=None, timeout=None):
                nonlocal reads
                if verb == "log.read":
                    reads += 1
                    if reads == 4:
                        board.control.power(False)
                return real_request(verb, args, timeout)

            device.request = cable_pulled_after_three_reads
            with pytest.raises(PillctlError, match="run `pillctl logs` again to resume"):
                pull(device, history)
        saved = [r["seq"] for r in history.records()]
        assert saved and saved == expected[: len(saved)] and len(saved) < len(expected)

        board.control.power(True)
        # A slow machine may take seconds to boot the board: wait for its hello, generously.
        with Device(board.port) as device:
            wait_hello(device)
            pull(device, history)
    # The device appended a boot record on power-on; everything before it came over once.
    pulled = [r["seq"] for r in history.records()]
    assert pulled[: len(expected)] == expected
    assert len(pulled) == len(set(pulled))
