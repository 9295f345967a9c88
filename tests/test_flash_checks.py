"""pillctl flash checks the board before writing anything: the board the running firmware
reports against --board, and the MicroPython it runs against what mpy-cross builds for."""

from __future__ import annotations

import subprocess

import pytest
from conftest import run_pillctl

from pillctl.errors import PillctlError
from pillctl.executables import require_tool
from pillctl.micropython_version import (
    BoardInfo,
    check_micropython,
    mpy_cross_version,
    parse_board_info,
)


def test_the_probe_line_is_read_back():
    info = parse_board_info("noise\nPILLCTL-INFO 1.29.0 4870 pico\n")
    assert info == BoardInfo((1, 29, 0), 4870, "pico")
    assert info.mpy_version == (6, 3)
    assert parse_board_info("PILLCTL-INFO 1.22.2 262 -").board is None  # blank board


def test_same_mpy_version_builds_native_another_6x_builds_bytecode():
    assert check_micropython("p", BoardInfo((1, 29, 0), 6 | 3 << 8, None), (6, 3)) is True
    assert check_micropython("p", BoardInfo((1, 23, 0), 6 | 2 << 8, None), (6, 3)) is False


@pytest.mark.parametrize(
    ("version", "mpy"), [((1, 19, 1), 6), ((1, 20, 0), 6), ((1, 21, 0), 6 | 1 << 8)]
)
def test_an_older_micropython_is_refused_in_one_line_naming_the_fix(version, mpy):
    with pytest.raises(PillctlError) as caught:
        check_micropython("/dev/ttyACM0", BoardInfo(version, mpy, "pico"), (6, 3))
    message = str(caught.value)
    assert "\n" not in message
    assert "needs MicroPython 1.22.0 or newer" in message
    assert "BOOTSEL" in message and ".uf2" in message


def test_mpy_cross_reports_the_version_it_emits():
    result = subprocess.run([require_tool("mpy-cross"), "--version"], capture_output=True)
    assert f"v{'.'.join(map(str, mpy_cross_version()))}" in result.stdout.decode()


def test_flash_refuses_another_board_than_the_running_firmware_before_writing(sim_board):
    before = sorted(p.name for p in (sim_board.fs / "dispenser").iterdir())
    result = run_pillctl("flash", "--board", "pico", "--port", sim_board.port)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"pillctl: {sim_board.port} runs the dispenser firmware for board 'sim', not 'pico': "
        "flash with --board sim (or without --board)"
    )
    assert sorted(p.name for p in (sim_board.fs / "dispenser").iterdir()) == before
