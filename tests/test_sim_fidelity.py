"""The simulated board behaves as the rp2 port does (docs/sim.md): resets and the RTC, the
raw REPL's soft reset, scratch registers, machine's extras, torn writes at a power cut,
button edges and injected faults. Every wait follows a signal of the board's."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import serial
from conftest import ROOT, run_pillctl
from simhelpers import board_with, compiled, log_records, next_event, unlock, utc

from dispenser.core import logrec
from dispenser.logstore import LogStore
from dispenser.schedstore import SCHEDULE_PATH
from pillctl.device import open_device
from pillctl.flashing import wait_for_hello
from pillctl.sim.firmware_image import install_source
from pillctl.sim.process import SimProcess
from pillctl.sim.runner import RP2_RTC_EPOCH

PROMPT = b">>> "
SET_TIME = 1_800_000_000


def status(board) -> dict:
    result = run_pillctl("status", "--port", board.port, "--json", "--timeout", "20")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def hello(board) -> dict:
    """The board's hello, in-process (cheaper than a pillctl run, for the many checks here),
    asked again each second until it answers, as pillctl flash does after a reset."""
    return wait_for_hello(board.port, timeout=60)


def set_time(board) -> None:
    with open_device(board.port, timeout=30) as device:
        device.request("time.set", {"t": SET_TIME})


def repl(port: serial.Serial, *lines: str) -> str:
    """Run `lines` at the friendly REPL of a board in maintenance (simhelpers.unlock)."""
    port.write(b"\r")
    assert port.read_until(PROMPT).endswith(PROMPT), "no REPL: is the board unlocked?"
    out = b""
    for line in lines:
        port.write(line.encode() + b"\r")
        out += port.read_until(PROMPT)
    return out.decode(errors="replace")


def repl_then_reset(port: serial.Serial, *lines: str) -> str:
    """repl(), then machine.reset(): no prompt comes back from that one."""
    out = repl(port, *lines, "import machine")
    port.write(b"machine.reset()\r")
    port.flush()
    return out


def boot_after(board, since: int, cause: str, timeout: float = 30) -> int:
    event = board.control.wait_for("boot", since, value=cause, timeout=timeout)
    assert event is not None, f"no boot with cause {cause}"
    return event["seq"]


def test_machine_reset_is_a_hard_reset_that_keeps_the_scratch_registers(sim_board):
    since = sim_board.control.state()["trace_next"]
    unlock(sim_board)
    with serial.Serial(sim_board.port, timeout=30) as port:
        out = repl_then_reset(
            port,
            "import board, machine, os",
            "s = board.SimScratch(os.getenv('PILLCTL_SIM_SCRATCH'))",
            "s.write(1, 0xC0FFEE); s.write(3, 7)",
            "print(machine.unique_id().hex(), len(machine.unique_id()))",
        )
    assert f"{sim_board.control.state()['device_id']} 8" in out
    boot_after(sim_board, since, "reset")
    assert hello(sim_board)["reset"] == "reset"
    assert sim_board.control.state()["scratch"] == [0, 0xC0FFEE, 0, 7]
    unlock(sim_board)
    with serial.Serial(sim_board.port, timeout=30) as port:
        out = repl(port, "import machine", "print(machine.reset_cause() == machine.WDT_RESET)")
    assert "True" in out  # a Pico's machine.reset() goes through the watchdog
    sim_board.control.power(False)
    assert sim_board.control.state()["scratch"] is None  # lost with the power
    sim_board.control.power(True)
    assert hello(sim_board)["reset"] == "power"
    unlock(sim_board)
    with serial.Serial(sim_board.port, timeout=30) as port:
        out = repl(
            port,
            "import board, os",
            "print('words', [board.SimScratch(os.getenv('PILLCTL_SIM_SCRATCH')).read(i)"
            " for i in range(4)])",
        )
    assert "words [0, 0, 0, 0]" in out


def test_unique_id_is_fixed_per_flash_folder(tmp_path):
    ids = []
    for name in ("a", "a", "b"):
        with SimProcess(tmp_path / name) as board:
            ids.append(hello(board)["id"])
    assert ids[0] == ids[1] != ids[2]


def test_without_ds3231_every_hard_reset_restarts_the_clock_at_2021(tmp_path):
    """And the scratch registers survive the watchdog reset: the firmware keeps its time
    there (dispenser/core/timekeep.py), so only a power cut or a spoilt record loses it."""
    with SimProcess(tmp_path / "b", "--no-rtc", env={"PILLCTL_SIM_MAINTENANCE_S": "1"}) as board:
        control = board.control
        assert hello(board)["clock"] == "unknown"
        assert abs(control.state()["clock"]["wall"] - RP2_RTC_EPOCH) < 60
        set_time(board)
        # A soft reset (Ctrl-D at the friendly REPL) keeps the time.
        since = control.state()["trace_next"]
        unlock(board)
        with serial.Serial(board.port, timeout=30) as port:
            repl(port)
            port.write(b"\x04")
            assert port.read_until(b"soft reboot\r\n").endswith(b"soft reboot\r\n")
        boot_after(board, since, "soft")
        assert hello(board)["clock"] == "set"
        # machine.reset() restarts the RTC at 2021, and the firmware takes the time back
        # from the scratch registers ...
        since = control.state()["trace_next"]
        unlock(board)
        with serial.Serial(board.port, timeout=30) as port:
            repl_then_reset(port)
        boot_after(board, since, "reset")
        assert hello(board)["clock"] == "set"
        # ... which the watchdog reset (the maintenance window ends) keeps too: with the
        # time record in them spoilt, the clock is unknown ...
        set_time(board)
        since = control.state()["trace_next"]
        unlock(board)
        with serial.Serial(board.port, timeout=30) as port:
            repl(port, "import board, os")
            # Spoilt once maintenance stopped feeding (and saving the time), or a save from
            # its last feed could put the record right again before the watchdog reset.
            assert control.wait_for("maintenance", since, value="unfed", timeout=30)
            port.write(b"board.SimScratch(os.getenv('PILLCTL_SIM_SCRATCH')).write(0, 12345)\r")
            assert port.read_until(PROMPT).endswith(PROMPT)
        boot_after(board, since, "wdt")
        assert hello(board)["clock"] == "unknown"
        assert control.state()["scratch"][0] == 12345
        # ... and a power cut.
        set_time(board)
        control.power(False)
        control.power(True)
        assert hello(board)["clock"] == "unknown"


def test_with_ds3231_the_clock_survives_machine_reset_and_power(tmp_path):
    with SimProcess(tmp_path / "b", "--time", "2027-01-15T12:00:00+00:00") as board:
        since = board.control.state()["trace_next"]
        unlock(board)
        with serial.Serial(board.port, timeout=30) as port:
            repl_then_reset(port)
        boot_after(board, since, "reset")
        assert hello(board)["t"] >= 1_800_000_000
        board.control.power(False)
        board.control.power(True)
        assert hello(board)["t"] >= 1_800_000_000


def mpremote() -> str:
    return shutil.which("mpremote") or str(Path(sys.executable).parent / "mpremote")


def test_mpremote_without_resume_leaves_the_board_in_the_raw_repl_until_the_watchdog(sim_board):
    control = sim_board.control
    unlock(sim_board)  # the app ignores mpremote until a person agrees at the device
    since = control.state()["trace_next"]
    result = subprocess.run(
        [mpremote(), "connect", sim_board.port, "fs", "ls"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "main.py" in result.stdout
    soft = boot_after(sim_board, since, "soft")
    # main.py did not run after the soft reset: nothing feeds the watchdog, which resets
    # the board into main.py about 8 s after the last feed.
    watchdog = control.wait_for("watchdog", soft, timeout=30)
    assert watchdog is not None
    between = [e for e in control.trace(soft + 1) if e["seq"] < watchdog["seq"]]
    assert not [e for e in between if e["name"] == "led.status"]
    assert not [e for e in between if e["name"] == "boot"]
    boot_after(sim_board, watchdog["seq"], "wdt")
    assert hello(sim_board)["reset"] == "wdt"
    print("mpremote soft reset to watchdog reset: %.1f s" % (watchdog["host_time"] - soft_time(
        control, soft)))  # fmt: skip


def soft_time(control, seq: int) -> float:
    return next(e["host_time"] for e in control.trace(seq) if e["seq"] == seq)


@pytest.mark.parametrize("how", [b"\x04", b"import machine; machine.soft_reset()\r"])
def test_a_soft_reset_from_the_friendly_repl_runs_main_again(sim_board, how):
    since = sim_board.control.state()["trace_next"]
    unlock(sim_board)
    with serial.Serial(sim_board.port, timeout=30) as port:
        repl(port)
        port.write(how)
        assert port.read_until(b"soft reboot\r\n").endswith(b"MPY: soft reboot\r\n")
    boot = boot_after(sim_board, since, "soft")
    assert sim_board.control.wait_for("led.status", boot, timeout=30) is not None  # main.py
    assert hello(sim_board)["reset"] == "soft"


def test_a_cut_mid_append_tears_the_record_and_the_scanner_skips_it(tmp_path):
    with board_with(tmp_path / "b", compiled("bone-health")) as board:
        control = board.control
        control.step_to(utc(11, 35))
        armed = control.request(cmd="power", on=False, at="write", path="log/", seed=5, timeout=0)
        control.press()  # the press is logged: the cut tears that record, or an earlier one
        assert control.wait_for("power", armed["since"], value="off", timeout=30) is not None
        torn = control.state()["torn"]
        assert torn["seed"] == 5 and torn["step"] == "write" and "log/" in torn["path"]
        assert 0 < torn["kept"] < torn["size"] and torn["lost"] == torn["size"] - torn["kept"]
        data = (board.fs / torn["path"]).read_bytes()
        assert len(data) == torn["offset"] + torn["kept"]
        # Every record before the cut is whole, the torn one is not misread ...
        whole = [rec for _, rec in logrec.scan(data[: torn["offset"]])]
        assert [rec for _, rec in logrec.scan(data)] == whole
        # ... and the board's own scanner skips exactly the torn bytes.
        store = LogStore(str(board.fs / "log"))
        list(store.records())
        assert store.skipped_bytes == torn["kept"]
        control.power(True)
        assert hello(board)["reset"] == "power"
        errors = [r for r in log_records(board) if r["kind"] == "error"]
        assert errors, "the board logs the torn tail it skipped"


@pytest.mark.parametrize(
    ("step", "path", "seed", "installed"),
    [
        ("write", "schedule.json.tmp", 5, "old"),
        ("rename", "schedule.json", 1, "old"),  # cut just before the rename
        ("rename", "schedule.json", 0, "new"),  # cut just after it
    ],
)
def test_a_cut_mid_install_leaves_the_old_or_the_new_schedule(
    tmp_path, step, path, seed, installed
):
    old = compiled("bone-health")
    with board_with(tmp_path / "b", old) as board:
        control = board.control
        armed = control.request(cmd="power", on=False, at=step, path=path, seed=seed, timeout=0)
        new = str(ROOT / "schedules" / "levothyroxine-morning.toml")
        run_pillctl("push", new, "--port", board.port, "--timeout", "5")
        assert control.wait_for("power", armed["since"], value="off", timeout=60) is not None
        torn = control.state()["torn"]
        assert torn["step"] == step and torn["seed"] == seed
        on_flash = (board.fs / SCHEDULE_PATH).read_bytes()
        if installed == "old":
            assert on_flash == old
        else:
            assert on_flash != old
            json.loads(on_flash)  # whole, not a mix
        control.power(True)
        name = status(board)["status"]["schedule"]["name"]
        assert ("levothyroxine" in name.lower()) == (installed == "new"), name


def test_button_edges_are_played_with_the_boards_timing(sim_board):
    with serial.Serial(sim_board.port, timeout=30) as port:
        port.reset_input_buffer()
        sim_board.control.button([(0, 150), (1, 50)])
        short = next_event(port, "press")
        sim_board.control.button([(0, 2200), (1, 50)])
        long = next_event(port, "press")
    assert short["long"] is False and long["long"] is True


BAD_REQUESTS = [
    ({"cmd": "button", "edges": [[2, 10]]}, "is not [0|1, ms]"),
    ({"cmd": "button", "edges": [[0, 99999]]}, "lasts 0 to 60000 ms"),
    ({"cmd": "fault", "flash": "EFOO"}, "is not EIO or ENOSPC"),
    ({"cmd": "fault", "task": "a b"}, "is not a name"),
    ({"cmd": "power", "on": False, "at": "seek", "path": "log/"}, "not write or rename"),
]


def test_bad_control_requests_get_one_clear_error_and_change_nothing(sim_board):
    from pillctl.errors import PillctlError

    for request, error in BAD_REQUESTS:
        with pytest.raises(PillctlError, match=re.escape(error)):
            sim_board.control.request(**request)
    assert sim_board.control.state()["powered"]
    assert hello(sim_board)["reset"] == "power"


PROBE = """
import asyncio, board
b = board.build()

async def probe():
    n = 0
    while True:
        n += 1
        try:
            b.fault_point("probe")
            with open("probe.txt", "ab") as f:
                f.write(b"x")
            print("ok", n)
        except RuntimeError as exc:
            print("fault", n, exc)
        except OSError as exc:
            print("flash", n, exc.errno)
        await asyncio.sleep_ms(50)

async def main():
    for coro in b.background_tasks():
        asyncio.create_task(coro)
    await probe()

asyncio.run(main())
"""


def after_arming(port: serial.Serial, then: int = 20) -> list[str]:
    """The probe's lines, without its counter, from its first line that is not "ok" (the
    fault arrives through the board's input FIFO, in its own time), and `then` more."""
    for _ in range(2000):
        first = port.readline().decode()
        if first and not first.startswith("ok"):
            lines = [first] + [port.readline().decode() for _ in range(then)]
            return [" ".join(line.split()[:1] + line.split()[2:]) for line in lines]
    raise AssertionError("the armed fault never showed")


def test_injected_task_fault_and_flash_errors(tmp_path):
    fs = tmp_path / "b" / "fs"
    install_source(fs)
    (fs / "main.py").write_text(PROBE)
    with (
        SimProcess(tmp_path / "b", "--blank") as board,
        serial.Serial(board.port, timeout=30) as port,
    ):
        port.read_until(b"ok")
        port.readline()  # the rest of the probe's first line
        board.control.fault_task("probe")
        # once, at the probe's next check-in
        assert after_arming(port) == ["fault injected fault: probe"] + ["ok"] * 20
        board.control.fault_flash("ENOSPC", 2)
        assert after_arming(port) == ["flash 28"] * 2 + ["ok"] * 19  # the next two writes
        board.control.fault_flash("EIO", 1)
        assert after_arming(port, then=5) == ["flash 5"] + ["ok"] * 5
