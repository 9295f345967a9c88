"""The local log store: dedupe, resume, durability across a torn line, schedules, export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from dispenser.core import checkpoint, logrec
from pillctl.errors import PillctlError
from pillctl.history import DATA_ENV, DeviceHistory, csv_columns, data_root, known_devices

ROOT = Path(__file__).resolve().parent.parent
SCHEDULE = ROOT / "tests/data/device/bone-health.json"

RECORDS = [
    (1, 0, logrec.BOOT, (0,)),
    (2, 1796000000, logrec.CLOCK_SET, (0,)),
    (3, 1796000100, logrec.DISPENSE, (logrec.id_key("d3-lunch"), 0, 1, 2000)),
    (4, 1796000200, logrec.REFUSED, (logrec.id_key("ca-dinner"), logrec.REASON_CAP)),
    (
        5,
        1796000300,
        logrec.CHECKPOINT,
        checkpoint.pack(
            (20791, (5, 6, 7), 0x11, (1, 2, 3, 4), ((9, 10),), (), (), (), (), 0xB55A6A72)
        ),
    ),
    (6, 1796000400, 99, b"\x01\x02"),  # a kind from a newer firmware
]


def test_add_records_stores_as_dicts_in_order(tmp_path):
    history = DeviceHistory("pico-1", tmp_path)
    assert history.last_seq() == 0 and history.records() == []
    assert history.add_records(RECORDS) == 6
    stored = history.records()
    assert [r["seq"] for r in stored] == [1, 2, 3, 4, 5, 6]
    assert stored[2] == {
        "seq": 3,
        "t": 1796000100,
        "kind": "dispense",
        "dose": logrec.id_key("d3-lunch"),
        "hopper_nut": 0,
        "pills": 1,
        "amount": 2000,
    }
    assert stored[4]["stock"] == [5, 6, 7] and stored[4]["confirms"] == [[9, 10]]
    assert stored[5] == {"seq": 6, "t": 1796000400, "kind": 99, "raw": "0102"}
    assert history.last_seq() == 6
    assert (tmp_path / "pico-1" / "log.jsonl").read_text().count("\n") == 6


def test_repeated_and_resumed_pulls_never_duplicate(tmp_path):
    history = DeviceHistory("pico-1", tmp_path)
    assert history.add_records(RECORDS[:3]) == 3
    assert history.add_records(RECORDS[:3]) == 0  # the same pull again
    assert history.add_records(RECORDS[1:5]) == 2  # overlapping resume
    # a fresh object (a later pillctl run) sees what was stored
    again = DeviceHistory("pico-1", tmp_path)
    assert again.last_seq() == 5
    assert again.add_records(RECORDS) == 1
    assert [r["seq"] for r in again.records()] == [1, 2, 3, 4, 5, 6]


def test_duplicates_inside_one_batch_are_skipped(tmp_path):
    history = DeviceHistory("pico-1", tmp_path)
    assert history.add_records([RECORDS[0], RECORDS[1], RECORDS[1], RECORDS[0]]) == 2


def test_torn_last_line_is_ignored_then_repaired(tmp_path):
    history = DeviceHistory("pico-1", tmp_path)
    history.add_records(RECORDS[:3])
    log = tmp_path / "pico-1" / "log.jsonl"
    with open(log, "ab") as f:
        f.write(b'{"seq": 4, "t": 17960')  # a crash in the middle of a write
    reopened = DeviceHistory("pico-1", tmp_path)
    assert reopened.last_seq() == 3
    assert [r["seq"] for r in reopened.records()] == [1, 2, 3]
    assert reopened.add_records(RECORDS[3:5]) == 2
    lines = log.read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3, 4, 5]


def test_corrupt_complete_line_is_an_actionable_error(tmp_path):
    history = DeviceHistory("pico-1", tmp_path)
    history.add_records(RECORDS[:2])
    log = tmp_path / "pico-1" / "log.jsonl"
    log.write_text(log.read_text().replace('"seq"', "#seq", 1))
    with pytest.raises(PillctlError, match="line 1 is corrupt"):
        DeviceHistory("pico-1", tmp_path).records()


def test_writes_are_fsynced(tmp_path, monkeypatch):
    synced = []
    real_fsync = __import__("os").fsync
    monkeypatch.setattr("pillctl.history.os.fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    DeviceHistory("pico-1", tmp_path).add_records(RECORDS[:2])
    assert len(synced) >= 1


def test_bad_device_id_is_refused(tmp_path):
    with pytest.raises(PillctlError, match="folder name"):
        DeviceHistory("../etc", tmp_path)


def test_data_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "x"))
    assert data_root() == tmp_path / "x"
    monkeypatch.delenv(DATA_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_root() == tmp_path / "xdg" / "pillctl" / "devices"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_root() == tmp_path / "home" / ".local/share/pillctl/devices"


def test_known_devices_lists_only_devices_with_a_log(tmp_path):
    assert known_devices(tmp_path / "missing") == []
    DeviceHistory("b", tmp_path).add_records(RECORDS[:1])
    DeviceHistory("a", tmp_path).add_records(RECORDS[:1])
    (tmp_path / "empty").mkdir()
    assert known_devices(tmp_path) == ["a", "b"]


def test_schedules_are_saved_once_by_their_sha256(tmp_path):
    history = DeviceHistory("pico-1", tmp_path)
    data = SCHEDULE.read_bytes()
    history.save_schedule(data)
    history.save_schedule(data)
    sha = json.loads(data)["sha256"]
    saved = list((tmp_path / "pico-1" / "schedules").iterdir())
    assert [p.name for p in saved] == [f"{sha}.json"]
    assert saved[0].read_bytes() == data
    assert history.schedules() == [json.loads(data)]


def test_a_schedule_with_a_wrong_hash_is_refused(tmp_path):
    data = SCHEDULE.read_bytes().replace(b'"bone-health"', b'"bone-hacked"')
    with pytest.raises(PillctlError, match="not a valid device schedule"):
        DeviceHistory("pico-1", tmp_path).save_schedule(data)


def test_export_jsonl_is_one_record_per_line(tmp_path):
    history = DeviceHistory("pico-1", tmp_path)
    history.add_records(RECORDS)
    out = io.StringIO()
    history.export("jsonl", out)
    lines = out.getvalue().splitlines()
    named = [json.loads(line) for line in lines]
    # each record as stored, plus what a person reads (names, local time)
    assert [{k: v for k, v in r.items() if k not in ("names", "local")} for r in named] == (
        history.records()
    )


def test_exports_name_keys_and_hoppers_from_the_saved_schedule(tmp_path):
    from pathlib import Path

    from pillctl.schedule import compile_file

    root = Path(__file__).resolve().parent.parent
    history = DeviceHistory("pico-1", tmp_path)
    history.save_schedule(compile_file(root / "schedules" / "bone-health.toml"))
    t = 1796038500  # 2026-11-30 11:35 UTC, 12:35 in Berlin
    key = logrec.id_key("d3-lunch")
    history.add_records([(1, t, logrec.DISPENSE, (key, 0x00, 1, 2000))])
    out = io.StringIO()
    history.export("csv", out)
    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row == {
        "seq": "1", "time_utc": "2026-11-30T11:35:00Z", "local_time": "2026-11-30 12:35:00",
        "kind": "dispense", "dose": "d3-lunch", "meal": "lunch",
        "compartment": "d3 (vitamin D3)", "pills": "1", "amount": "2000", "unit": "IU",
        "count": "", "reason": "", "details": "",
    }  # fmt: skip


def test_export_csv_has_a_stable_header_and_one_row_per_record(tmp_path):
    history = DeviceHistory("pico-1", tmp_path)
    history.add_records(RECORDS)
    out = io.StringIO()
    history.export("csv", out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == csv_columns() == [
        "seq", "time_utc", "local_time", "kind", "dose", "meal", "compartment", "pills",
        "amount", "unit", "count", "reason", "details",
    ]  # fmt: skip
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(table) == 6  # one row per record
    assert table[0]["time_utc"] == "" and table[0]["details"] == "cause=power"  # clock unknown
    assert table[2]["time_utc"] == "2026-11-30T00:55:00Z"
    assert (table[2]["kind"], table[2]["amount"], table[2]["unit"]) == ("dispense", "2000", "IU")
    assert table[3]["reason"] == "cap" and table[3]["amount"] == table[3]["unit"] == ""
    assert "stock=[5, 6, 7]" in table[4]["details"]
    assert table[5]["details"] == "raw=0102"  # a kind this host does not know


def test_export_of_an_empty_store_is_just_the_header(tmp_path):
    out = io.StringIO()
    DeviceHistory("pico-1", tmp_path).export("csv", out)
    assert out.getvalue() == ",".join(csv_columns()) + "\n"


def test_unknown_export_format_is_an_error(tmp_path):
    with pytest.raises(PillctlError, match="csv or jsonl"):
        DeviceHistory("pico-1", tmp_path).export("xml", io.StringIO())
