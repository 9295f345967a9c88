"""The report replays the log through the firmware's Engine, so a window that a spacing rule
stretched is judged as the device judges it: a late levothyroxine confirmation holds the
calcium dose back, and the report must not call it missed while the device holds it open."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from simhelpers import compiled_unchecked

from dispenser.core import logrec
from dispenser.core.engine import Engine
from dispenser.core.localtime import days_from_civil, to_utc
from dispenser.core.schedule import parse
from dispenser.logstore import LogStore
from pillctl.adherence import build_report
from pillctl.history import DATA_ENV, DeviceHistory

ROOT = Path(__file__).resolve().parent.parent
DAY = days_from_civil(2026, 11, 30)


@pytest.fixture
def schedule_bytes(tmp_path) -> bytes:
    # Lunch at 10:30 (window 10:00-12:30): a levothyroxine confirmed at 07:10 holds calcium
    # until 11:10 (CA-LEVO, 4 h), which moves ca-lunch's window to 11:10-13:10. The host
    # refuses the schedule (CA-LEVO over the whole windows); compiled unchecked, it is what
    # the device holds back on its own.
    text = (ROOT / "schedules/levothyroxine-morning.toml").read_text()
    path = tmp_path / "levo.toml"
    path.write_text(text.replace('at = "12:30"', 'at = "10:30"'))
    return compiled_unchecked(path, start=date(2026, 11, 30))


def _history(tmp_path, monkeypatch, data: bytes, until_minute: int, press_minute=None):
    """One morning of the device's life, logged as the app logs it, pulled into a store."""
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "data"))
    sched = parse(data)
    engine = Engine(sched)
    store = LogStore(str(tmp_path / "board"), snapshot=engine.checkpoint)
    engine.restore(store.records())

    def at(minute: int) -> int:
        return to_utc(sched.utc, DAY, minute)

    def log(events):
        for t, kind, fields in events:
            store.append(t, kind, fields)

    store.append(at(360), logrec.BOOT, (logrec.BOOT_POWER_ON,))  # the controller logs it
    log(engine.clock_set(at(360), 0))
    log(engine.install(at(360), sched))
    log(engine.press(at(7 * 60 + 10)))  # levothyroxine, confirmed late in its window
    minutes = [10 * 60 + 40, press_minute] if press_minute else [10 * 60 + 40]
    for minute in minutes:
        log(engine.press(at(minute)))  # lunch: calcium is refused (spacing), D3/K2 drop
    log(engine.tick(at(until_minute)))
    history = DeviceHistory("levo-device")
    data_read, _ = store.read_since(0, 1 << 20)
    history.add_records(rec for _, rec in logrec.scan(data_read))
    history.save_schedule(data)
    return history


def _statuses(history) -> dict[str, str]:
    report = build_report(history)
    return {i.entry_id: i.status for i in report.days[-1].instances}


def test_a_dose_held_by_spacing_is_pending_after_its_plain_window_closed(
    tmp_path, monkeypatch, schedule_bytes
):
    # 12:45: past ca-lunch's plain window (12:30), inside the stretched one (13:10).
    history = _history(tmp_path, monkeypatch, schedule_bytes, until_minute=12 * 60 + 45)
    statuses = _statuses(history)
    assert statuses["levo"] == "confirmed"
    assert statuses["d3-lunch"] == "on time" and statuses["k2-lunch"] == "on time"
    assert statuses["ca-lunch"] == "pending"


def test_the_held_dose_taken_in_its_stretched_window_counts_as_taken(
    tmp_path, monkeypatch, schedule_bytes
):
    history = _history(
        tmp_path, monkeypatch, schedule_bytes, until_minute=13 * 60 + 30, press_minute=12 * 60 + 50
    )
    assert _statuses(history)["ca-lunch"] == "late"  # dispensed, after at + 30 min


def test_the_held_dose_is_counted_refused_once_its_stretched_window_closed(
    tmp_path, monkeypatch, schedule_bytes
):
    history = _history(tmp_path, monkeypatch, schedule_bytes, until_minute=13 * 60 + 30)
    assert _statuses(history)["ca-lunch"] == "refused"  # refused for spacing, never taken
