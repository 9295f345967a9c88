"""One answer for "when does it run out" and "how did today go" (issue 16 item 3): the
device's `status` reply, its MQTT state, the host's `status` and the report agree, for a
schedule with weekday doses, date ranges and doses already taken or refused today.

The device is the real App with its serial commands, in process and in virtual time
(tests/inprocess.py); the report is built from the log on its flash, as `pillctl report`
builds it from a pulled log.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from inprocess import run
from rich.console import Console
from simhelpers import SCHEDULES, compiled, utc

from dispenser.core import logrec
from dispenser.core.schedule import parse
from dispenser.logstore import LogStore
from dispenser.net import messages
from pillctl.adherence import build_report
from pillctl.commands.status import render
from pillctl.history import DATA_ENV, DeviceHistory

# 2026-11-30 is a Monday (Europe/Berlin, UTC+1: breakfast 06:30, lunch 11:30 UTC).
CHANGES = (
    # D3 on Monday, Wednesday and Friday only
    ('id = "d3-lunch"\ncompartment = "d3"\npills = 1\nmeal = "lunch"\n',
     'id = "d3-lunch"\ncompartment = "d3"\npills = 1\nmeal = "lunch"\n'
     'days = ["mon", "wed", "fri"]\n'),
    # K2 from Wednesday for three weeks
    ('id = "k2-lunch"\ncompartment = "k2"\npills = 1\nmeal = "lunch"\n',
     'id = "k2-lunch"\ncompartment = "k2"\npills = 1\nmeal = "lunch"\n'
     'start = 2026-12-02\nend = 2026-12-20\n'),
    # calcium at dinner until 10 December, then at lunch
    ('id = "ca-dinner"\ncompartment = "ca"\npills = 1\nmeal = "dinner"\n',
     'id = "ca-dinner"\ncompartment = "ca"\npills = 1\nmeal = "dinner"\nend = 2026-12-10\n\n'
     '[[doses]]\nid = "ca-lunch"\ncompartment = "ca"\npills = 1\nmeal = "lunch"\n'
     'start = 2026-12-11\n'),
)  # fmt: skip


def _schedule(tmp_path: Path) -> bytes:
    text = (SCHEDULES / "bone-health.toml").read_text()
    for old, new in CHANGES:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "weekdays-and-ranges.toml"
    path.write_text(text)
    return compiled(path)


def _report(root: Path, data: bytes, n: int):
    """The report of the board's log as it stands, pulled into a fresh store."""
    history = DeviceHistory(f"agreement-{n}")
    raw, _ = LogStore(str(root / "log")).read_since(0, 1 << 20)
    history.add_records(record for _, record in logrec.scan(raw))
    history.save_schedule(data)
    return build_report(history)


def _report_run_out(report) -> dict[str, str | None]:
    found = {}
    for line in report.run_out:
        date = re.search(r"runs out (\d{4}-\d\d-\d\d)", line)
        found[line.split(" ")[0]] = date.group(1) if date else None
    return found


def test_status_mqtt_state_host_status_and_report_agree(world, tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "host-data"))
    data = _schedule(tmp_path)
    world.boot_with(data, utc(5, 0))
    seen = []

    async def agree(expected_today: tuple[int, int, int]) -> None:
        now = world.board.clock.now()
        verb, status = await world.request("status")
        assert verb == "ok"
        state = json.loads(messages.state(world.app.controller.engine, now, 0, 0))
        report = _report(world.root, data, len(seen))
        today = report.days[-1]
        counts = today.counts
        taken = counts["on time"] + counts["late"]
        tallies = {
            "status": tuple(status["today"][k] for k in ("taken", "refused", "missed")),
            "mqtt": (state["taken_today"], state["refused_today"], state["missed_today"]),
            "report": (taken, counts["refused"], counts["missed"]),
        }
        assert set(tallies.values()) == {expected_today}, tallies
        # Home Assistant's problem sensor: a dose of today not taken, missed or refused
        assert state["missed"] == ("ON" if expected_today[1] + expected_today[2] else "OFF")
        assert state["adherence_today"] == (
            round(100 * taken / sum(counts.values())) if sum(counts.values()) else None
        )
        run_out = {
            "status": {c["id"]: c["runs_out"] for c in status["compartments"]},
            "mqtt": {cid: s["runs_out"] for cid, s in state["stock"].items()},
            "report": _report_run_out(report),
        }
        assert run_out["status"] == run_out["mqtt"] == run_out["report"], run_out
        # The host's status shows the device's dates and tally.
        console = Console(record=True, width=200)
        console.print(render("PORT", status, json.loads(data), parse(data)))
        shown = console.export_text()
        for date in run_out["status"].values():
            assert date is not None and date in shown
        assert "{} taken, {} refused, {} missed".format(*expected_today) in shown
        seen.append(run_out["status"])

    async def body():
        await world.start()
        for hopper, count in ((0, 4), (1, 6), (2, 0)):
            verb, _ = await world.request("refill", {"hopper": hopper, "count": count})
            assert verb == "ok"
        await world.step_to(int(utc(6, 35)))
        await world.press()  # calcium empty: refused
        await world.step_to(int(utc(9, 0)))  # breakfast closed: refused, not missed
        assert (await world.request("refill", {"hopper": 2, "count": 9}))[0] == "ok"
        await world.step_to(int(utc(11, 35)))
        await world.press()  # Monday: D3 (K2 starts on Wednesday)
        await agree((1, 1, 0))
        await world.step_to(int(utc(17, 35)))
        await world.press()  # calcium at dinner
        await world.step_to(int(utc(6, 35, days=1)))
        await world.press()  # Tuesday breakfast; no D3 on Tuesdays
        await agree((1, 0, 0))
        await world.step_to(int(utc(11, 35, days=2)))  # Wednesday: breakfast missed
        await world.press()  # D3 and K2
        await agree((2, 0, 1))

    run(world.loop, body())
    # The first dose each stock cannot give: d3 (4 on Monday; Mon, Wed, Fri) has none left
    # for Wednesday 9 December; k2 (6; daily from Wednesday 2 December) none for Tuesday 8;
    # calcium (9 from Monday's dinner; Tuesday's dinner missed, two a day) none for Sunday 6.
    assert seen[-1] == {"d3": "2026-12-09", "k2": "2026-12-08", "ca": "2026-12-06"}
