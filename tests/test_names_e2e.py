"""Names as people write them, end to end on the sim board: a schedule named in German with
an emoji and a reminder item with `µ` are pushed by the real CLI, and every place a person
reads shows them as written: status, the serial frames both ways, the log export, the report
(terminal and HTML) with the dispenser's own name."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT, run_pillctl
from simhelpers import board_with, press_and_settle, utc

from pillctl.device import DeviceError, open_device

SCHEDULE_NAME = "Knochenplan für Oma – Winter 🦴"
ITEM_NAME = "L-Thyroxin 75 µg"
DEVICE_NAME = "Omas Küche 🏠"


@pytest.fixture
def named_schedule(tmp_path):
    source = (ROOT / "schedules" / "levothyroxine-morning.toml").read_text(encoding="utf-8")
    assert source.count('name = "levothyroxine 75 mcg"') == 1
    source = source.replace('name = "levothyroxine 75 mcg"', f'name = "{ITEM_NAME}"')
    source = source.replace('\ntimezone = "', f'\nname = "{SCHEDULE_NAME}"\ntimezone = "', 1)
    path = tmp_path / "oma.toml"
    path.write_text(source, encoding="utf-8")
    return path


def test_names_are_shown_as_written_everywhere_a_person_reads_them(tmp_path, named_schedule):
    env = {"PILLCTL_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    # London is UTC+0 in winter: the levothyroxine reminder's window is 06:15-07:15 UTC.
    with board_with(tmp_path / "board", None, time_iso="2026-11-30T06:00:00+00:00") as board:
        pushed = run_pillctl("push", str(named_schedule), "--port", board.port, env=env)
        assert pushed.returncode == 0, pushed.stderr

        with open_device(board.port) as device:
            # device -> host: the reply carries the name in UTF-8 as written
            assert device.request("status")["schedule"]["name"] == SCHEDULE_NAME
            # host -> device: a frame with UTF-8 in it is read and answered, the text intact
            assert device.request("hello", {"note": "für 😀"})["proto"] == 1
            with pytest.raises(DeviceError) as refused:
                device.request("grüß")
            assert "no command grüß" in str(refused.value)

        shown = run_pillctl("status", "--port", board.port, env=env)
        assert shown.returncode == 0, shown.stderr
        assert SCHEDULE_NAME in shown.stdout and ITEM_NAME in shown.stdout

        board.control.step_to(utc(6, 35))
        press_and_settle(board, [])  # the levothyroxine confirmed
        pulled = run_pillctl("logs", "--port", board.port, "--format", "jsonl", env=env)
        assert pulled.returncode == 0, pulled.stderr

        named = run_pillctl("name", DEVICE_NAME, env=env)
        assert named.returncode == 0, named.stderr
        assert f"“{DEVICE_NAME}”" in named.stdout
        shown = run_pillctl("status", "--port", board.port, env=env)
        assert shown.returncode == 0, shown.stderr
        assert f"“{DEVICE_NAME}”" in shown.stdout

    records = [json.loads(line) for line in pulled.stdout.splitlines() if line.startswith("{")]
    (confirm,) = [r for r in records if r["kind"] == "confirm"]
    assert confirm["names"]["what"] == ITEM_NAME
    page = tmp_path / "report.html"
    report = run_pillctl("report", "--html", str(page), env=env)
    assert report.returncode == 0, report.stderr
    for text in (DEVICE_NAME, SCHEDULE_NAME, f"{ITEM_NAME} (reminder)"):
        assert text in report.stdout
        assert text in page.read_text(encoding="utf-8")


def test_a_device_name_with_a_control_character_is_refused(tmp_path):
    env = {"PILLCTL_DATA_DIR": str(tmp_path / "data")}
    (tmp_path / "data" / "e6614c311b4a2f3d").mkdir(parents=True)
    (tmp_path / "data" / "e6614c311b4a2f3d" / "log.jsonl").write_bytes(b"")
    refused = run_pillctl("name", "Omas\x1b[2JKüche", env=env)
    assert refused.returncode == 1
    assert refused.stderr.strip() == "pillctl: name: U+001B is not a printable character; remove it"
