"""The MQTT payloads (dispenser/net/messages.py) in-process, without a broker: every log
kind's event, the state before a schedule and with one, and every discovery config against
Home Assistant's schema (the same check the broker test makes on what arrived)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "core"))

from coretools import DAY, at, fresh_engine  # noqa: E402
from mqtthelpers import check_discovery  # noqa: E402

from dispenser.core import localtime, logrec  # noqa: E402
from dispenser.net import messages  # noqa: E402


@pytest.fixture
def engine():
    return fresh_engine()


def test_every_published_kind_names_its_dose_and_fields(engine):
    sched = engine.schedule
    d3 = logrec.id_key("d3-lunch")
    t = at(sched, DAY, 12 * 60 + 35)
    cases = {
        logrec.DISPENSE: ((d3, 0, 1, 2000), {"event": "dose_taken", "dose": "d3-lunch",
                                            "meal": "lunch", "compartment": "d3",
                                            "supplement": "vitamin D3", "pills": 1}),
        logrec.MISSED: ((d3,), {"event": "dose_missed", "dose": "d3-lunch", "meal": "lunch"}),
        logrec.JAM: ((d3, 0, 0), {"event": "jam", "dose": "d3-lunch", "compartment": "d3",
                                  "delivered": 0}),
        logrec.LOW: ((2, 9), {"event": "low_stock", "compartment": "ca",
                              "supplement": "calcium", "count": 9}),
        logrec.REFILL: ((1, 30), {"event": "refilled", "compartment": "k2",
                                  "supplement": "vitamin K2 (MK-7)", "count": 30}),
        logrec.REFUSED: ((d3, logrec.REASON_CAP), {"event": "refused", "reason": "cap"}),
        logrec.SNOOZE: ((logrec.id_key("lunch"),), {"event": "snoozed", "meal": "lunch"}),
        logrec.BOOT: ((logrec.BOOT_WATCHDOG,), {"event": "restarted", "why": "watchdog",
                                                "clock": "set"}),
        logrec.ERROR: ((41, 5), {"event": "error", "code": 41, "detail": 5}),
    }  # fmt: skip
    for kind, (fields, expected) in cases.items():
        event = json.loads(messages.event((7, t, kind, fields), sched))
        assert event["seq"] == 7 and event["t"] == messages.iso(t)
        assert expected.items() <= event.items(), (kind, event)
        assert "hopper" not in event, event  # the schedule's names, not hopper numbers


def test_a_restart_reads_as_status_reads_it():
    """`restarted` says `reset` for a machine.reset() or a soft reset, as `pillctl status`
    does (it said `soft` where status said `reset`), and `watchdog` for a watchdog reset."""
    for board_word, why in (("power", "power"), ("wdt", "watchdog"), ("reset", "reset"),
                            ("soft", "reset")):  # fmt: skip
        record = (1, 0, logrec.BOOT, (logrec.boot_cause(board_word),))
        assert json.loads(messages.event(record, None))["why"] == why


def test_bookkeeping_stays_on_the_device_and_unknown_clock_and_keys_are_said_so():
    for kind in (logrec.REMIND, logrec.CONFIRM, logrec.CHECKPOINT):
        assert messages.event((1, 0, kind, ()), None) is None
    boot = json.loads(messages.event((1, 0, logrec.BOOT, (logrec.BOOT_POWER_ON,)), None))
    assert (boot["t"], boot["clock"], boot["why"]) == (None, "unknown", "power")
    missed = json.loads(messages.event((2, 0, logrec.MISSED, (1234,)), None))
    assert missed["dose"] == "#1234"  # no schedule to name it by


def test_iso_times_are_utc_as_python_writes_them():
    for t in (0, 951782400, 1796038500, 4102444799):  # 1970, a leap day, 2026, 2099
        assert messages.iso(t) == datetime.fromtimestamp(t, UTC).isoformat()


def test_state_and_discovery_fit_home_assistant_before_and_after_a_schedule(engine):
    bare = json.loads(messages.state(None, None, 0, 0))
    assert (bare["clock"], bare["next_dose"], bare["stock"]) == ("unknown", None, {})
    assert len(list(messages.discovery("abcd", None))) == 9
    for topic, config in messages.discovery("abcd", None):
        check_discovery(topic, json.loads(config), bare)

    now = at(engine.schedule, DAY, 6 * 60)
    engine.refill(now, 2, 10)  # calcium: 10 pills at 2 a day
    state = json.loads(messages.state(engine, now, 0, 0))
    runs_out = date(*localtime.civil_from_days(DAY + 5)).isoformat()
    assert state["stock"]["ca"] == {"count": 10, "runs_out": runs_out}
    assert state["stock"]["d3"] == {"count": None, "runs_out": None}  # never refilled
    configs = [(t, json.loads(c)) for t, c in messages.discovery("abcd", engine.schedule)]
    assert len(configs) == 15
    assert {check_discovery(t, c, state) for t, c in configs} >= {"10", "OFF", "set"}
    ids = [c["unique_id"] for _, c in configs]
    assert len(set(ids)) == len(ids)
    names = {c["unique_id"].removeprefix("pillbox_abcd_"): c["name"] for _, c in configs}
    assert (names["stock_d3"], names["runs_out_k2"], names["stock_ca"]) == (
        "vitamin D3 stock", "vitamin K2 (MK-7) runs out", "calcium stock"
    )  # fmt: skip
