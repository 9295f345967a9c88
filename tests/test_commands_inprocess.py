"""The serial commands and the app's frame handling in-process, in virtual time: every
verb's reply and refusal, bad frames, the button-confirmed test dispense, maintenance."""

from __future__ import annotations

import asyncio
import json
import runpy
import sys
import types
from base64 import b64decode, b64encode

import pytest
from conftest import ROOT
from core.supervisetools import FakeScratch
from inprocess import put_schedule, scenario_of, until, upload
from simhelpers import compiled, utc

from dispenser import app as app_module
from dispenser.arbiter import SESSION
from dispenser.core import logrec, patterns, protocol, timekeep
from dispenser.core.schedule import E_CAP, E_HASH
from dispenser.setupcmds import TEST_HOLD_WINDOW_MS
from pillctl.schedule.hashing import embedded_hash, with_hash

BONE = compiled("bone-health")
MORNING = utc(5, 0)  # before any dose window
FUSION = compiled("spinal-fusion-regimen")


def test_hello_and_status_describe_the_board_and_its_day(world):
    world.boot_with(BONE, utc(11, 35))

    async def body():
        verb, hello = await world.request("hello")
        assert verb == "ok"
        assert (hello["board"], hello["id"], hello["reset"]) == (
            "fake",
            "fa4e000000000001",
            "power",
        )
        assert hello["clock"] == "set" and hello["t"] == utc(11, 35)
        verb, status = await world.request("status")
        assert status["schedule"]["sha256"] == embedded_hash(BONE)
        assert status["state"] == "due" and status["level"] == 1
        assert [p[0] for p in status["pending"]] == ["ca-breakfast", "d3-lunch", "k2-lunch",
                                                     "ca-dinner"][1:]  # fmt: skip
        assert [c["id"] for c in status["compartments"]] == ["d3", "k2", "ca"]
        assert status["log"]["last"] >= 1

    scenario_of(world, body)


def test_time_set_checks_its_argument_logs_and_announces(world):
    world.boot(None)
    world.board.scratch = FakeScratch()

    async def body():
        verb, error = await world.request("time.set", {"t": 5})
        assert verb == "err" and error["code"] == "bad_args"
        verb, reply = await world.request("time.set", {"t": 1_800_000_000})
        assert verb == "ok" and reply == {"t": 1_800_000_000, "previous": None}
        assert world.app.link.events("clock_set")
        # Kept for a reset at once, not only at the next watchdog feed a second later.
        assert timekeep.saved(world.board.scratch) == 1_800_000_000

    scenario_of(world, body)
    assert world.kinds() == ["boot", "clock_set"]


def test_a_schedule_push_installs_it_and_logs_it(world):
    world.boot_with(BONE, MORNING)
    before = []

    async def body():
        before.extend(world.records())
        verb, reply = await upload(world, FUSION)
        assert verb == "ok" and reply["sha256"] == embedded_hash(FUSION)
        verb, status = await world.request("status")
        assert status["schedule"]["sha256"] == embedded_hash(FUSION)

    scenario_of(world, body)
    assert (world.root / "schedule.json").read_bytes() == FUSION
    added = world.records()[len(before) :]
    assert [r["hash32"] for r in added if r["kind"] == "schedule"] == [
        int(embedded_hash(FUSION)[:8], 16)
    ]


def _over_the_absolute_cap() -> bytes:
    schedule = json.loads(FUSION)
    schedule["caps"]["ca"] = 3000
    return with_hash(schedule)


@pytest.mark.parametrize(
    "data, sha, refusal",
    [
        pytest.param(FUSION, "0" * 64, None, id="wrong-upload-sha256"),
        pytest.param(
            FUSION.replace(b'"spinal-fusion"', b'"spinal-fusioN"', 1),
            None,
            {"code": E_HASH, "path": [], "values": []},
            id="wrong-embedded-hash",
        ),  # fmt: skip
        pytest.param(
            _over_the_absolute_cap(),
            None,
            {"code": E_CAP, "path": ["caps", "ca"], "values": [2500]},
            id="cap-over-absolute-limit",
        ),
    ],
)
def test_a_corrupt_or_unsafe_upload_is_refused_and_the_old_schedule_stays(
    world, data, sha, refusal
):
    world.boot_with(BONE, MORNING)
    before = []

    async def body():
        before.extend(world.records())
        verb, error = await upload(world, data, sha)
        assert verb == "err" and error["code"] == "refused"
        # the device check's numbers and keys, no words, as the frame's JSON carries them
        assert json.loads(json.dumps(error.get("refusal"))) == refusal
        verb, status = await world.request("status")
        assert status["schedule"]["sha256"] == embedded_hash(BONE)

    scenario_of(world, body)
    assert (world.root / "schedule.json").read_bytes() == BONE
    assert sorted(p.name for p in world.root.glob("schedule*")) == ["schedule.json"]
    added = world.records()[len(before) :]
    # A schedule that fails the device's own check is logged, with the refusal's code; a
    # damaged upload is not.
    logged = [] if refusal is None else [refusal["code"]]
    assert [r["detail"] for r in added if r["code"] == logrec.ERR_SCHEDULE_REJECTED] == logged
    assert [r["kind"] for r in added] == ["error"] * len(logged)


def test_schedule_put_refuses_steps_out_of_order_and_bad_chunks(world):
    world.boot_with(BONE, MORNING)

    async def body():
        verb, error = await world.request("schedule.put", {"op": "commit"})
        assert (verb, error["code"]) == ("err", "refused")
        await world.request("schedule.put", {"op": "begin", "size": 10, "sha256": "0" * 64})
        chunk = b64encode(b"x" * 11).decode()
        verb, error = await world.request("schedule.put", {"op": "data", "off": 0, "b64": chunk})
        assert (verb, error["code"]) == ("err", "bad_args")
        verb, error = await world.request("schedule.put", {"op": "frobnicate"})
        assert (verb, error["code"]) == ("err", "bad_args")
        assert (await world.request("schedule.put", {"op": "abort"}))[0] == "ok"
        verb, error = await world.request("schedule.put", {"op": "commit"})
        assert (verb, error["code"]) == ("err", "refused")

    scenario_of(world, body)


def test_schedule_get_and_log_read_return_what_the_flash_holds(world):
    world.boot_with(BONE, MORNING)

    async def body():
        verb, got = await world.request("schedule.get", {"off": 0})
        assert b64decode(got["b64"]) == BONE[:2048] and got["size"] == len(BONE)
        last = world.records()[-1]["seq"]
        world.app.controller.refill(2, 30)
        verb, info = await world.request("log.info")
        assert info["id"] == "fa4e000000000001" and info["last"] == last + 1
        verb, page = await world.request("log.read", {"since": last})
        records = list(logrec.scan(b64decode(page["b64"])))
        assert [r[1][2:] for r in records] == [(logrec.REFILL, (2, 30))]
        assert (page["last"], page["more"]) == (last + 1, False)

    scenario_of(world, body)


def test_refill_needs_a_schedule_and_sets_the_stock(world):
    world.boot(utc(5, 0))

    async def body():
        verb, error = await world.request("refill", {"hopper": 2, "count": 30})
        assert (verb, error["code"]) == ("err", "refused")
        put_schedule(world.root, BONE)
        assert (await upload(world, BONE))[0] == "ok"
        assert await world.request("refill", {"hopper": 2, "count": 30}) == (
            "ok", {"hopper": 2, "count": 30})  # fmt: skip
        verb, error = await world.request("refill", {"hopper": 3, "count": 30})
        assert (verb, error["code"]) == ("err", "bad_args")
        verb, status = await world.request("status")
        assert [c["stock"] for c in status["compartments"]] == [None, None, 30]

    scenario_of(world, body)


def test_bad_frames_get_one_error_each_and_change_nothing(world):
    world.boot_with(BONE, MORNING)

    async def body():
        link = world.app.link
        before, n = world.records(), len(link.sent)
        await world.app.handle_line(b"not a frame at all")
        await world.app.handle_line(b"P1 5 hello {} 00000000")
        await world.app.handle_line(b"P\xff\xfe")
        assert [(i, v, p["code"]) for i, v, p in link.sent[n:]] == [
            (0, "err", "bad_crc"), (0, "err", "bad_frame")]  # fmt: skip
        verb, error = await world.request("no.such.verb")
        assert (verb, error["code"]) == ("err", "unknown_cmd")
        line = protocol.encode(8, "refill", [1, 2]).encode()
        await world.app.handle_line(line)
        assert link.sent[-1][1:] == ("err", {"code": "bad_args",
                                             "msg": "arguments must be an object"})  # fmt: skip
        assert world.records() == before
        assert world.board.actuations() == [0, 0, 0]

    scenario_of(world, body)


def test_a_command_that_fails_inside_answers_internal_and_the_app_lives_on(world):
    world.boot_with(BONE, MORNING)

    async def body():
        def broken(args):
            raise RuntimeError("boom")

        world.app._commands.table["hello"] = broken
        verb, error = await world.request("hello")
        assert (verb, error["code"]) == ("err", "internal")
        verb, _ = await world.request("status")
        assert verb == "ok"

    scenario_of(world, body)


def test_dispense_test_without_a_hold_is_refused_after_exactly_the_window(world):
    world.boot_with(BONE, utc(11, 35))  # lunch: a dose press would drop D3 and K2

    async def body():
        started = world.loop.time()
        verb, error = await world.request("dispense.test", {"hopper": 0})
        waited = world.loop.time() - started
        assert (verb, error["code"]) == ("err", "refused")
        # ... plus the 100 ms a wait stays open for a press released just in time to be
        # handed over (dispenser.arbiter)
        assert TEST_HOLD_WINDOW_MS / 1000 <= waited <= TEST_HOLD_WINDOW_MS / 1000 + 0.15

    scenario_of(world, body)
    assert world.board.actuations() == [0, 0, 0]


def test_dispense_test_with_a_hold_drops_one_pill_outside_the_schedule(world):
    world.boot_with(BONE, utc(11, 35))

    async def body():
        before = world.records()

        async def person():
            await asyncio.sleep(0.3)
            await world.board.press(1500)

        asyncio.ensure_future(person())
        assert await world.request("dispense.test", {"hopper": 0}) == (
            "ok", {"hopper": 0, "delivered": 1})  # fmt: skip
        await until(lambda: world.board.button_pin.level == 1)
        await asyncio.sleep(0.5)
        assert world.presses_done == []  # the confirming hold was no dose press
        # ... and the log says why a press while lunch was due dispensed nothing
        taken = world.records()[len(before) :]
        assert [(r["kind"], r["code"], r["detail"]) for r in taken] == [
            ("error", logrec.ERR_PRESS_TAKEN, 1)
        ]
        verb, status = await world.request("status")
        assert {p[0] for p in status["pending"]} == {"d3-lunch", "k2-lunch", "ca-dinner"}
        await world.press()  # the next real press still dispenses

    scenario_of(world, body)
    assert world.board.actuations() == [2, 1, 0]


def test_a_button_already_held_must_be_released_before_it_confirms(world):
    world.boot_with(BONE, utc(11, 35))

    async def body():
        world.board.button(0)  # stuck, or held before the request
        verb, error = await world.request("dispense.test", {"hopper": 1})
        assert (verb, error["code"]) == ("err", "refused")

    scenario_of(world, body)
    assert world.board.actuations() == [0, 0, 0]


def test_identify_blinks_every_led_then_shows_the_state_again(world):
    world.boot_with(BONE, utc(9, 0))

    async def body():
        assert await world.request("identify") == ("ok", {"seconds": 5})
        await asyncio.sleep(0.2)
        leds = [world.app.controller.status_led] + world.app.controller.compartment_leds
        assert [led.pattern for led in leds] == [patterns.IDENTIFY] * 4
        await asyncio.sleep(5)
        assert world.app.controller.status_led.pattern == patterns.HEARTBEAT

    scenario_of(world, body)


def test_every_press_is_announced_on_the_serial_line(world):
    world.boot_with(BONE, utc(9, 0))

    async def body():
        await world.press()
        await world.press(2000)

    scenario_of(world, body)
    presses = world.app.link.events("press")
    assert [(p["kind"], p["long"]) for p in presses] == [("press", False), ("press", True)]
    assert all(utc(9, 0) <= p["t"] <= utc(9, 1) for p in presses)  # each with its time


def test_the_watchdog_is_fed_every_second_while_the_loop_runs(world):
    world.boot_with(BONE, MORNING)

    async def body():
        await asyncio.sleep(10.5)

    scenario_of(world, body)
    assert world.board.watchdog.timeout_ms == 8000
    assert world.board.watchdog.feeds == 11


def test_ctrl_c_ends_in_maintenance_with_safe_outputs_and_a_bounded_window(world, monkeypatch):
    """firmware/main.py itself, with a Ctrl-C that got in while the app runs: whatever
    catches the KeyboardInterrupt, the board ends with safe outputs and a bounded
    maintenance window (with the keyboard interrupt off, only one in the microseconds
    before main.py turned it off can)."""
    world.boot_with(BONE, utc(11, 35))  # lunch: compartment LEDs on
    board = world.board
    board.scratch = FakeScratch()  # no time saved yet: the maintenance reset must keep it
    board.status_led.value(1)
    board.compartment_leds[0].value(1)

    interrupts = [KeyboardInterrupt]

    def interrupted(coro):  # the app's run is interrupted, once
        coro.close()
        if interrupts:
            raise interrupts.pop()

    monkeypatch.setattr(app_module.asyncio, "run", interrupted)
    monkeypatch.setitem(sys.modules, "board", types.SimpleNamespace(build=lambda: board))
    kbd_intr: list[int] = []
    monkeypatch.setitem(sys.modules, "micropython", types.SimpleNamespace(kbd_intr=kbd_intr.append))
    runpy.run_path(str(ROOT / "firmware" / "main.py"), run_name="__main__")
    assert kbd_intr == [-1, 3]  # off first of all; on again for the maintenance REPL
    assert board.watchdog is not None  # started now, so the window still ends in a reset
    assert board.fed_for == board.maintenance_s == 300
    assert timekeep.saved(board.scratch) == board.clock.now()
    assert board.servos_released() and board.buzzer_pwm.duty == 0
    assert all(led.value() == 0 for led in [board.status_led] + board.compartment_leds)


def test_restart_from_the_repl_works_even_when_the_ctrl_c_came_before_the_app_ran(
    world, monkeypatch
):
    world.boot(None)
    board = world.board
    monkeypatch.setattr(app_module, "_board", None)
    monkeypatch.setitem(sys.modules, "board", types.SimpleNamespace(build=lambda: board))
    app_module.restart()
    assert board.resets == 1


def test_selftest_hold_step_wants_a_hold_and_no_press_during_it_is_a_dose_press(world):
    world.boot_with(BONE, utc(11, 35))  # lunch: a dose press would drop D3 and K2

    async def body():
        before = world.records()

        async def person():
            await until(lambda: world.app.link.events("waiting"))
            await world.board.press(300)  # too short for the hold: the wait goes on
            await asyncio.sleep(0.3)
            await world.board.press(2100)

        asyncio.ensure_future(person())
        started = world.loop.time()
        reply = await world.request("selftest", {"step": "hold", "wait_ms": 10000})
        assert reply == ("ok", {"ok": True})
        assert 3.0 <= world.loop.time() - started < 3.9  # at the hold's 2 s, not the press
        assert world.app.link.events("waiting") == [{"kind": "waiting", "for": "hold", "ms": 10000}]
        await until(lambda: world.board.button_pin.level == 1)
        await asyncio.sleep(0.5)
        assert world.presses_done == []  # neither the short press nor the hold dispensed
        # Lunch is due, so each press the self-test took is logged with why it did not
        # dispense (ERROR 32, a test wait's: 1), and nothing else is.
        taken = world.records()[len(before) :]
        assert world.records()[: len(before)] == before
        assert [(r["kind"], r["code"], r["detail"]) for r in taken] == [("error", 32, 1)] * 2

    scenario_of(world, body)
    assert world.board.actuations() == [0, 0, 0]


def test_selftest_led_step_lights_that_led_alone_then_shows_the_state_again(world):
    world.boot_with(BONE, utc(11, 35))

    async def body():
        async def person():
            await until(lambda: world.app.link.events("waiting"))
            await asyncio.sleep(0.05)  # the LED tasks take the new patterns
            assert [led.value() for led in world.board.compartment_leds] == [0, 0, 1]
            assert world.board.status_led.value() == 0
            await world.board.press(150)

        asyncio.ensure_future(person())
        assert await world.request("selftest", {"step": "led", "led": 3, "wait_ms": 5000}) == (
            "ok", {"ok": True})  # fmt: skip
        await asyncio.sleep(0.1)
        # Lunch is due again on compartments 0 and 1 (D3, K2).
        assert [led.value() for led in world.board.compartment_leds][:2] == [1, 1]
        assert world.presses_done == []

    scenario_of(world, body)


def test_a_double_press_answers_one_selftest_step_not_the_next(world):
    world.boot_with(BONE, utc(11, 35))

    async def body():
        async def person():
            await until(lambda: world.app.link.events("waiting"))
            await world.board.press(100)
            await asyncio.sleep(0.1)
            await world.board.press(100)  # lands at the start of the next step

        asyncio.ensure_future(person())
        led = {"step": "led", "led": 1, "wait_ms": 2000}
        assert await world.request("selftest", led) == ("ok", {"ok": True})
        assert await world.request("selftest", dict(led, led=2)) == ("ok", {"ok": False})
        await asyncio.sleep(0.5)
        assert world.presses_done == []  # and neither press was a dose press

    scenario_of(world, body)
    assert world.board.actuations() == [0, 0, 0]


async def _begin_calibration(world, hopper):
    async def person():
        await until(lambda: world.app.link.events("waiting"))
        await world.board.press(100)

    asyncio.ensure_future(person())
    begin = {"op": "begin", "hopper": hopper, "wait_ms": 5000}
    verb, reply = await world.request("calibrate", begin)
    assert verb == "ok" and reply["ok"], reply


@pytest.mark.parametrize("ended_by", ["end", "idle"])
def test_an_open_calibration_owns_the_button_until_it_ends(world, ended_by):
    world.boot_with(BONE, utc(11, 35))  # lunch: a dose press would drop D3 and K2

    async def body():
        await _begin_calibration(world, 0)  # hopper 0's servo: D3's
        before = world.records()
        await world.board.press(100)  # while the person positions that servo
        await asyncio.sleep(0.5)
        assert world.presses_done == []
        taken = world.records()[len(before) :]
        assert [(r["kind"], r.get("code"), r.get("detail")) for r in taken] == [
            ("error", logrec.ERR_PRESS_TAKEN, SESSION)
        ]
        if ended_by == "end":
            verb, _ = await world.request("calibrate", {"op": "end", "hopper": 0})
            assert verb == "ok"
        else:  # the host went away: the session ends itself after a minute
            await until(lambda: world.app._commands.calibrating is None, timeout_s=70)
        await world.press()  # the button is the dose's again

    scenario_of(world, body)
    assert world.board.actuations()[:2] == [1, 1]  # lunch: D3 and K2, once


def test_a_wait_asked_during_a_calibration_still_gets_its_press(world):
    world.boot_with(BONE, utc(11, 35))

    async def body():
        await _begin_calibration(world, 1)

        async def person():
            await until(lambda: len(world.app.link.events("waiting")) == 2)
            await world.board.press(100)

        asyncio.ensure_future(person())
        step = {"step": "press", "wait_ms": 5000}
        assert await world.request("selftest", step) == ("ok", {"ok": True})
        verb, _ = await world.request("calibrate", {"op": "end", "hopper": 1})
        assert verb == "ok" and world.presses_done == []

    scenario_of(world, body)


def test_other_parts_extend_the_app_only_through_its_hooks(world):
    # what dispenser.net uses: a new verb, a status section, each logged record
    world.boot_with(BONE, utc(11, 35))

    async def body():
        seen = []
        world.app.add_command("echo", lambda args: {"said": args.get("x")})
        world.app.add_status("extra", lambda: {"here": True})
        world.app.subscribe(seen.append)
        with pytest.raises(ValueError, match="hello"):
            world.app.add_command("hello", lambda args: {})  # a verb is never replaced
        assert await world.request("echo", {"x": 3}) == ("ok", {"said": 3})
        verb, status = await world.request("status")
        assert verb == "ok" and status["extra"] == {"here": True}
        assert (await world.request("refill", {"hopper": 0, "count": 30}))[0] == "ok"
        assert [record[2] for record in seen][:1] == [logrec.REFILL]

    scenario_of(world, body)
