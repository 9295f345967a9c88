"""One owner for the button (dispenser.arbiter), in-process in virtual time: overlapping
waits, a hold during each kind of wait, a short press then a hold, and a press while a dose
is due always dispenses or is logged with the reason it did not (issue 17, item 3)."""

from __future__ import annotations

import asyncio

from inprocess import scenario_of, until, upload
from simhelpers import bone_health_with_override, compiled, utc

from dispenser.confirm import CONFIRM_HOLD_MS
from dispenser.core import logrec

BONE = compiled("bone-health")
LUNCH = utc(11, 35)  # D3 and K2 due at lunch (Berlin 12:35)
HOLD_MS = CONFIRM_HOLD_MS + 500


def _taken(world) -> list[int]:
    """The waits (arbiter ranks) that took a press while a dose was due, as logged."""
    return [
        r["detail"]
        for r in world.records()
        if r["kind"] == "error" and r["code"] == logrec.ERR_PRESS_TAKEN
    ]


def _kinds_after(world, n: int) -> list[str]:
    return [r["kind"] for r in world.records()[n:]]


async def _await_confirmation(world) -> None:
    verb, reply = await upload(world, bone_health_with_override(5000))
    assert verb == "ok" and "confirm" in reply, reply
    await until(lambda: world.app.controller.pending is not None)


def test_one_hold_during_an_override_wait_and_a_test_wait_confirms_only_the_override(world):
    world.boot_with(BONE, LUNCH)

    async def body():
        await _await_confirmation(world)

        async def person():
            await asyncio.sleep(0.5)
            await world.board.press(HOLD_MS)  # one hold, both waits open

        asyncio.ensure_future(person())
        verb, reply = await world.request("dispense.test", {"hopper": 2})
        assert (verb, reply["code"]) == ("err", "refused")  # the hold was the override's
        assert "override" in world.kinds()
        assert world.app.arbiter.busy() is False  # no wait outlives its owner
        n = len(world.records())
        await world.press()  # the next press is the dose's
        assert _kinds_after(world, n).count("dispense") == 2

    scenario_of(world, body)
    assert world.board.actuations()[2] == 0  # the test dispense never ran
    assert _taken(world) == [0]  # the hold came while lunch was due: logged why


def test_a_hold_during_a_test_wait_confirms_the_test_and_is_no_dose_press(world):
    world.boot_with(BONE, LUNCH)

    async def body():
        async def person():
            await asyncio.sleep(0.2)
            await world.board.press(HOLD_MS)

        asyncio.ensure_future(person())
        assert await world.request("dispense.test", {"hopper": 2}) == (
            "ok", {"hopper": 2, "delivered": 1})  # fmt: skip
        await asyncio.sleep(0.5)
        assert world.presses_done == []
        await world.press()
        assert world.presses_done == [False]

    scenario_of(world, body)
    assert world.board.actuations() == [1, 1, 1]
    assert _taken(world) == [1]


def test_a_hold_with_no_wait_open_is_the_dose_press_a_snooze(world):
    world.boot_with(BONE, LUNCH)

    async def body():
        await world.press(HOLD_MS)

    scenario_of(world, body)
    assert world.presses_done == [True]
    assert "snooze" in world.kinds()
    assert _taken(world) == []


def test_a_short_press_then_a_hold_during_an_override_wait(world):
    world.boot_with(BONE, LUNCH)

    async def body():
        await _await_confirmation(world)
        await world.board.press(300)  # too short to confirm: still the confirmation's
        await asyncio.sleep(0.3)
        assert world.app.controller.pending is not None
        assert world.presses_done == []
        await world.board.press(HOLD_MS)
        await until(lambda: world.app.controller.pending is None)
        assert "override" in world.kinds()
        n = len(world.records())
        await world.press()
        kinds = _kinds_after(world, n)
        assert kinds.count("dispense") == 2, kinds

    scenario_of(world, body)
    assert _taken(world) == [0, 0]  # both presses came while lunch was due: logged
    d3 = [r["amount"] for r in world.records() if r["kind"] == "dispense" and r["hopper_nut"] == 0]
    assert d3 == [5000]  # the confirmed override, once


def test_a_press_begun_before_a_wait_opened_stays_the_dose_press(world):
    world.boot_with(BONE, LUNCH)

    async def body():
        world.board.button(0)  # pressed before the test wait opens
        await asyncio.sleep(0.1)
        request = asyncio.ensure_future(world.request("dispense.test", {"hopper": 2}))
        await asyncio.sleep(0.2)
        world.board.button(1)
        await until(lambda: world.presses_done == [False])
        verb, _ = await request
        assert verb == "err"  # nobody pressed for the test

    scenario_of(world, body)
    assert world.board.actuations() == [1, 1, 0]


def test_a_test_wait_that_timed_out_leaves_nothing_behind(world):
    world.boot_with(BONE, LUNCH)

    async def body():
        verb, _ = await world.request("dispense.test", {"hopper": 2})
        assert verb == "err"
        await world.press()

    scenario_of(world, body)
    assert world.board.actuations() == [1, 1, 0]
    assert _taken(world) == []
