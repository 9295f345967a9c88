"""The report on a set-up day (issue 16 item 2): a schedule pushed while the device's clock
was unknown is judged from the time sync that followed, and the doses whose windows closed
before it are not counted, by the firmware Engine's own verdict (no rule restated here).

The log is written as the app writes it: bone-health ran from 05:00 UTC; a power cut lost
the RTC; levothyroxine-morning (Europe/London) was pushed with the clock unknown (its
SCHEDULE record carries time 0); the time was synced at 20:38, after the day's last window
(dinner, to 20:30) closed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from dispenser.core import logrec
from dispenser.core.engine import Engine
from dispenser.core.localtime import days_from_civil, to_utc
from dispenser.core.schedule import parse
from dispenser.logstore import LogStore
from pillctl.adherence import build_report
from pillctl.history import DATA_ENV, DeviceHistory
from pillctl.schedule import compile_file

ROOT = Path(__file__).resolve().parent.parent
DAY = days_from_civil(2026, 11, 30)


def _compiled(name: str) -> bytes:
    return compile_file(ROOT / "schedules" / f"{name}.toml", start=date(2026, 11, 30))


def test_a_schedule_pushed_with_the_clock_unknown_counts_from_the_sync(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "data"))
    older, newer = _compiled("bone-health"), _compiled("levothyroxine-morning")
    old_sched, new_sched = parse(older), parse(newer)
    store = LogStore(str(tmp_path / "board"))

    def log(events):
        for t, kind, fields in events:
            store.append(t, kind, fields)

    def utc(minute: int, day: int = DAY) -> int:
        return to_utc(((0, 0),), day, minute)

    engine = Engine(old_sched)
    engine.restore([], clock_known=True)
    log([(utc(300), logrec.BOOT, (logrec.BOOT_POWER_ON,))])
    log(engine.install(utc(300), old_sched))
    # The power cut: the RTC restarts, unknown; the device logs time 0 until the sync.
    engine = Engine(old_sched)
    engine.restore(store.replay_records(), clock_known=False)
    log([(0, logrec.BOOT, (logrec.BOOT_POWER_ON,))])
    log(engine.install(0, new_sched))
    log(engine.clock_set(utc(20 * 60 + 38), 0))
    log(engine.tick(utc(20 * 60 + 38)))
    log(engine.tick(utc(8 * 60 + 30, DAY + 1)))  # the next morning: levothyroxine missed

    history = DeviceHistory("setup-day")
    data, _ = store.read_since(0, 1 << 20)
    history.add_records(rec for _, rec in logrec.scan(data))
    history.save_schedule(older)
    history.save_schedule(newer)
    report = build_report(history)
    by_day = {d.day: d for d in report.days}
    assert by_day[DAY].instances == []  # nothing of the set-up day was due
    assert [(i.entry_id, i.status) for i in by_day[DAY + 1].instances if i.status != "pending"] == [
        ("levo", "missed")
    ]
    assert report.schedule_names == ["levothyroxine-morning"]
