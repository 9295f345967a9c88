"""`pillctl demo` as a newcomer runs it, from a folder outside the repository: the same
story whatever the time of day, the missed dose named, every printed command on one line,
and its files kept with the command that shows the report again."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

from conftest import ROOT
from mqtthelpers import needs_mosquitto


def test_the_demo_tells_its_own_story_and_keeps_its_report(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "host"), COLUMNS="80")
    result = subprocess.run(
        [sys.executable, "-m", "pillctl", "demo"],
        cwd=tmp_path,  # not the repository root: the default schedule must still be found
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    # A week of 28 doses, one forgotten dinner, whatever the hour the demo runs at.
    assert "Overall 96% taken (27 of 28 doses): 27 on time, 0 late, 0 refused, 1 missed" in out
    [missed] = re.findall(r"missed: (.*)", out)
    assert re.fullmatch(r"ca-dinner \(calcium carbonate\) at dinner on Wednesday \S+", missed)
    # Piped output, 80 columns: a command is never broken over two lines.
    commands = [shlex.split(line[2:]) for line in out.splitlines() if line.startswith("$ ")]
    assert len(commands) >= 12 and any(len(" ".join(c)) > 80 for c in commands)
    for words in commands:
        if "--port" in words:
            assert words[words.index("--port") + 1].endswith("pillctl-demo/board/port"), words
        if "-o" in words:
            assert words[words.index("-o") + 1].endswith("pillctl-demo/schedule.json"), words
    # The files stay, and the printed command shows the report again.
    folder = tmp_path / "pillctl-demo"
    assert (folder / "report.html").is_file() and (folder / "data").is_dir()
    [again] = re.findall(r"the report again: (.*)", out)
    words = shlex.split(again)
    assert words[0] == f"PILLCTL_DATA_DIR={folder / 'data'}"
    shown = subprocess.run(
        [sys.executable, "-m", "pillctl", *words[words.index("report") :]],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "PILLCTL_DATA_DIR": str(folder / "data")},
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == "Supplement adherence: Demo dispenser"


@needs_mosquitto
def test_the_mqtt_demo_runs_without_a_terminal_and_asks_nothing(tmp_path):
    """`make demo-mqtt` stopped at a hidden `Wi-Fi password:` prompt (getpass reads the
    terminal), and without one printed GetPassWarning. It passes the simulated password on
    stdin itself, and says so."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "host"), COLUMNS="200")
    result = subprocess.run(
        [sys.executable, "-m", "pillctl", "demo", "--mqtt"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # no controlling terminal, as under cron or CI
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "GetPassWarning" not in result.stderr and "password:" not in result.stderr
    assert "wifi set demo-wifi --port" in result.stdout
    assert "--password-stdin   (the demo passes the simulated access point's password" in (
        result.stdout
    )
    assert "dose_missed" in result.stdout  # what the caregiver was sent
