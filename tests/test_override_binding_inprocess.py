"""Overrides are bound to a confirmation made at this device for this exact schedule
(issue 17, item 2), in-process in virtual time: a schedule file with overrides that reached
the flash without a hold here runs at the normal limits, at every boot; the confirmation
survives log rotation while its schedule is active, and another device's or another
schedule's confirmation does not count."""

from __future__ import annotations

import asyncio
import shutil

import pytest
from inprocess import (
    FakeBoard,
    VirtualLoop,
    install_micropython_names,
    make_world,
    put_schedule,
    scenario_of,
    until,
    upload,
)
from simhelpers import bone_health_with_override, compiled, utc

from dispenser.confirm import CONFIRM_HOLD_MS
from dispenser.core import logrec

BONE = compiled("bone-health")
LUNCH = utc(11, 35)
MORNING = utc(5, 0)


def _d3_given(world) -> list[int]:
    return [
        r["amount"]
        for r in world.records()
        if r["kind"] == "dispense" and logrec.unpack_nutrient(r["hopper_nut"]) == 0
    ]


def _errors(world, code: int) -> int:
    return sum(1 for r in world.records() if r["kind"] == "error" and r["code"] == code)


async def _confirm_at_device(world, data: bytes) -> None:
    verb, reply = await upload(world, data)
    assert verb == "ok" and "confirm" in reply, reply
    await until(lambda: world.app.controller.pending is not None)
    await world.board.press(CONFIRM_HOLD_MS + 300)
    await until(lambda: world.app.controller.pending is None)
    assert world.app.controller.overrides_applied


@pytest.fixture
def world(tmp_path, monkeypatch):
    world = make_world(tmp_path, monkeypatch)
    world.monkeypatch = monkeypatch
    return world


def _new_loop(world):
    """A fresh virtual event loop for the next boot (run() closes the last one)."""
    world.loop = VirtualLoop()
    install_micropython_names(world.monkeypatch, world.loop)


def _after_a_power_cut_lunch_gives_the_confirmed_dose(world) -> None:
    """A power cut, then lunch's press: the app starts from the flash alone, finds the
    confirmation in its log and gives the confirmed 5000 IU."""
    _new_loop(world)
    world.boot(LUNCH)

    async def after():
        await world.press()

    scenario_of(world, after)
    assert world.app.controller.overrides_applied
    assert _d3_given(world) == [5000]


def test_an_override_file_copied_onto_the_flash_never_dispenses_above_the_cap(world):
    world.boot_with(
        bone_health_with_override(10000), LUNCH
    )  # as after `mpremote fs cp` and a reboot

    async def body():
        verb, status = await world.request("status")
        overrides = status["schedule"]["overrides"]
        assert (overrides["applied"], overrides["confirmed"]) == (False, None)
        await world.press()

    scenario_of(world, body)
    assert _d3_given(world) == []  # 10,000 IU is over the normal 4,000 IU cap: refused
    refused = [r for r in world.records() if r["kind"] == "refused"]
    assert [r["reason"] for r in refused] == [logrec.REASON_CAP]
    assert _errors(world, logrec.ERR_OVERRIDE_UNBOUND) == 1  # logged at the boot


def test_below_the_normal_cap_an_unconfirmed_override_file_still_dispenses(world):
    world.boot_with(bone_health_with_override(3000), LUNCH)  # every dose within the normal limits

    async def body():
        await world.press()

    scenario_of(world, body)
    assert _d3_given(world) == [3000]


def test_a_confirmed_override_applies_after_reboots_and_log_rotations(world, monkeypatch):
    monkeypatch.setattr(FakeBoard, "log_budget", 2048)  # a rotation every ~256 bytes
    world.boot_with(BONE, MORNING)
    data = bone_health_with_override(5000)

    async def body():
        await _confirm_at_device(world, data)
        controller = world.app.controller
        for _ in range(200):  # far more than the log keeps: every old segment goes
            controller.append(int(utc(5, 1)), logrec.ERROR, (99, 0))

    scenario_of(world, body)
    kinds = world.kinds()
    assert "override" not in kinds  # the confirmation's own records rotated away ...
    assert "override_bound" in kinds  # ... but each rotation carried the binding

    _after_a_power_cut_lunch_gives_the_confirmed_dose(world)


def test_another_devices_confirmation_or_another_schedules_does_not_count(world, tmp_path):
    world.boot_with(BONE, MORNING)
    confirmed = bone_health_with_override(5000)

    async def body():
        await _confirm_at_device(world, confirmed)

    scenario_of(world, body)

    # Another schedule copied over the confirmed one: the confirmation was for that one.
    put_schedule(world.root, bone_health_with_override(6000))
    _new_loop(world)
    world.boot(LUNCH)
    scenario_of(world, lambda: world.press())
    assert not world.app.controller.overrides_applied
    assert _d3_given(world) == []

    # The confirmed schedule and its whole log, copied onto another device.
    other = tmp_path / "other"
    other.mkdir()
    shutil.copytree(world.root / "log", other / "log")
    put_schedule(other, confirmed)
    world.root = other
    world.monkeypatch.chdir(other)
    world.monkeypatch.setattr(FakeBoard, "device_id", "0ther00000000002")
    _new_loop(world)
    world.boot(LUNCH)
    scenario_of(world, lambda: world.press())
    assert not world.app.controller.overrides_applied
    assert _d3_given(world) == []


def test_a_confirmation_lapses_once_another_schedule_is_installed(world):
    world.boot_with(BONE, MORNING)
    confirmed = bone_health_with_override(5000)

    async def body():
        await _confirm_at_device(world, confirmed)
        verb, _ = await upload(world, BONE)  # no override: installed at once
        assert verb == "ok"
        await asyncio.sleep(0.1)

    scenario_of(world, body)
    put_schedule(world.root, confirmed)  # the confirmed file copied back by hand
    _new_loop(world)
    world.boot(LUNCH)
    scenario_of(world, lambda: world.press())
    assert not world.app.controller.overrides_applied
    assert _d3_given(world) == []


def test_a_confirmation_counts_at_boot_for_a_device_id_longer_than_its_record_field(
    world, monkeypatch
):
    # The record holds 16 bytes of the id: boot must compare what was written, cut alike.
    monkeypatch.setattr(FakeBoard, "device_id", "e6614103e7a1b2c3d4e5f607")
    world.boot_with(BONE, MORNING)

    async def body():
        await _confirm_at_device(world, bone_health_with_override(5000))

    scenario_of(world, body)
    _after_a_power_cut_lunch_gives_the_confirmed_dose(world)


def test_an_install_that_fails_after_the_hold_leaves_no_confirmation_behind(world, monkeypatch):
    world.boot_with(BONE, MORNING)
    from dispenser import schedstore

    def flash_full(path, data):
        raise OSError(28)

    async def body():
        verb, reply = await upload(world, bone_health_with_override(5000))
        assert verb == "ok" and "confirm" in reply, reply
        await until(lambda: world.app.controller.pending is not None)
        monkeypatch.setattr(schedstore, "install", flash_full)
        await world.board.press(CONFIRM_HOLD_MS + 300)
        await until(lambda: world.app.controller.pending is None)

    scenario_of(world, body)
    controller = world.app.controller
    assert (controller.bound, controller.confirmed_at) == (None, None)
    assert "override_bound" not in world.kinds()  # nothing a later boot or rotation trusts
    assert not controller.engine.schedule.overrides  # the old schedule stays in force
