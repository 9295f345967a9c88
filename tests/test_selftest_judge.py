"""The self-test's verdicts from the device's replies, and the SELFTEST record's masks."""

from __future__ import annotations

from pillctl.selftest import (
    FAIL,
    PASS,
    SKIP,
    STEP_NAMES,
    STEPS,
    Result,
    judge,
    masks,
    selftest_text,
    step_names,
)

BY_NAME = {step.name: step for step in STEPS}
NOW = 1_800_000_000.0


def test_steps_are_the_record_bits_in_order():
    assert STEP_NAMES[0] == "button.press" and STEP_NAMES[-1] == "flash"
    assert len(STEP_NAMES) == 13 <= 16  # the record's masks are u16
    results = [Result("led.0", PASS, ""), Result("servo.2", FAIL, ""), Result("clock", SKIP, "")]
    passed, failed = masks(results)
    assert step_names(passed) == ["led.0"] and step_names(failed) == ["servo.2"]
    assert selftest_text(int(NOW), passed, failed) == (
        "2027-01-15 08:00:00 UTC: 1 passed, 1 failed (servo.2)"
    )


def test_a_servo_passes_only_when_it_moved_and_a_fitted_sensor_saw_the_pill():
    servo = BY_NAME["servo.1"]
    moved = {"ok": True, "rest": 600, "drop": 2400}
    assert judge(servo, {**moved, "pill": None}, 20).outcome == PASS
    assert judge(servo, {**moved, "pill": True}, 20).outcome == PASS
    jam = judge(servo, {**moved, "pill": False}, 20)
    assert jam.outcome == FAIL and "pillctl calibrate 1" in jam.detail
    unpressed = judge(servo, {"ok": False}, 20)
    assert unpressed.outcome == FAIL and "did not move" in unpressed.detail


def test_the_clock_step_allows_two_seconds():
    clock = BY_NAME["clock"]
    for off, outcome in ((0, PASS), (2, PASS), (-2, PASS), (3, FAIL), (-3, FAIL)):
        reply = {"t": NOW, "ds3231": {"t": NOW + off, "lost": False}}
        assert judge(clock, reply, 20, host_now=NOW).outcome == outcome, off
    unknown = judge(clock, {"t": None, "ds3231": None}, 20, host_now=NOW)
    assert unknown.outcome == SKIP and "pillctl time sync" in unknown.detail


def test_the_flash_step_wants_room_a_log_within_budget_and_no_corruption():
    flash = BY_NAME["flash"]
    good = {"free": 800 * 1024, "size": 1 << 20, "skipped": 0,
            "log": {"bytes": 4000, "budget": 65536}}  # fmt: skip
    assert judge(flash, good, 20).outcome == PASS
    for bad, why in (
        ({"free": 15 * 1024}, "less than 16 KB free"),
        ({"skipped": 12}, "12 corrupt log bytes"),
        ({"log": {"bytes": 70000, "budget": 65536}}, "over its budget"),
    ):
        verdict = judge(flash, {**good, **bad}, 20)
        assert verdict.outcome == FAIL and why in verdict.detail
