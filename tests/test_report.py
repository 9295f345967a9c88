"""`pillctl report` on a realistic history: two weeks of the bone-health schedule driven
through the real dose engine and log store, pulled into the local store in chunks.

The fortnight (Mon 2026-11-30 .. Sun 2026-12-13), presses 5 min after each slot's `at`
unless listed: 56 dose instances, 51 on time, 3 late, 1 missed, 1 refused (jammed).
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from datetime import date
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from dispenser.core import logrec
from dispenser.core.engine import Engine
from dispenser.core.localtime import days_from_civil, to_utc
from dispenser.core.schedule import parse
from dispenser.logstore import LogStore
from pillctl.adherence import BANDS, build_report
from pillctl.cli import main
from pillctl.history import DATA_ENV, DeviceHistory
from pillctl.schedule import compile_file
from pillctl.schedule.hashing import with_hash

ROOT = Path(__file__).resolve().parent.parent
DEVICE = "e6614103e7"
FIRST = days_from_civil(2026, 11, 30)  # a Monday
DAYS = 14
# (day index, slot id) -> press minutes after the slot's `at`; None: never pressed
PRESSES = {
    (2, "lunch"): 60,  # d3-lunch and k2-lunch late
    (3, "dinner"): 30,  # exactly the grace: still on time
    (4, "breakfast"): -20,  # early, inside the window: on time
    (6, "breakfast"): 45,  # late
    (5, "dinner"): None,  # forgotten: missed
}
SNOOZED = (7, "lunch")  # long press at +12, then the real press at +25: on time
JAMMED = (9, "breakfast")  # calcium jams after this dispense: dinner is refused (jammed)
REFILL_DAY = 10  # the calcium hopper is cleared and refilled at 06:30


def _schedule_bytes() -> bytes:
    return compile_file(ROOT / "schedules/bone-health.toml", start=date(2026, 11, 30))


def _slot_actions(engine, slot, day_index, day, log):
    """(time, action) pairs of one slot on one day, in time order."""
    sched = engine.schedule

    def at(minute):
        return to_utc(sched.utc, day, minute)

    offset = PRESSES.get((day_index, slot.id), 5)
    end = slot.closes + 1 if offset is None else slot.at + offset
    actions = [(at(slot.at + m), lambda t: log(engine.tick(t))) for m in (0, 10, 20)]
    actions = [a for a in actions if a[0] < at(end)]
    if (day_index, slot.id) == SNOOZED:
        actions.append((at(slot.at + 12), lambda t: log(engine.press(t, long=True))))
    if offset is None:
        actions.append((at(end), lambda t: log(engine.tick(t))))
    else:
        actions.append((at(end), lambda t: log(engine.press(t))))
        if (day_index, slot.id) == JAMMED:
            key = logrec.id_key("ca-breakfast")
            actions.append((at(end) + 20, lambda t: log(engine.jammed(t, key, 2, 0))))
    return sorted(actions, key=lambda a: a[0])


def simulate(board_dir: Path, with_schedule_record: bool = True) -> LogStore:
    """Two weeks of the dispenser's life, logged exactly as the app logs it."""
    sched = parse(_schedule_bytes())
    engine = Engine(sched)
    store = LogStore(str(board_dir), snapshot=engine.checkpoint)
    engine.restore(store.records())

    def log(events):
        for t, kind, fields in events:
            store.append(t, kind, fields)

    start = to_utc(sched.utc, FIRST, 360)
    log([(start, logrec.BOOT, (logrec.BOOT_POWER_ON,))])
    log(engine.clock_set(start, 0))
    if with_schedule_record:
        log(engine.install(start, sched))
    for i in range(DAYS):
        day = FIRST + i
        if i == REFILL_DAY:
            log(engine.refill(to_utc(sched.utc, day, 390), 2, 100))
        for slot in sched.slots:
            for t, action in _slot_actions(engine, slot, i, day, log):
                action(t)
        log(engine.tick(to_utc(sched.utc, day, 1439)))
    return store


def pull(store: LogStore, history: DeviceHistory, chunk: int = 300) -> None:
    """What `pillctl logs` does: read since the stored last seq, in chunks, until done."""
    while True:
        data, _ = store.read_since(history.last_seq(), chunk)
        if not data:
            return
        history.add_records(rec for _, rec in logrec.scan(data))


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    root = tmp_path / "data"
    monkeypatch.setenv(DATA_ENV, str(root))
    return root


@pytest.fixture
def history(tmp_path, data_root):
    store = simulate(tmp_path / "board")
    history = DeviceHistory(DEVICE, data_root)
    pull(store, history)
    pull(store, history)  # a repeated pull adds nothing
    history.save_schedule(_schedule_bytes())
    assert history.last_seq() == store.last_seq
    return history


# ----- classification --------------------------------------------------------------------


def test_classification_counts_are_exact(history):
    report = build_report(history)
    assert (report.first, report.last) == (date(2026, 11, 30), date(2026, 12, 13))
    assert len(report.days) == 14
    assert dict(report.counts) == {"on time": 51, "late": 3, "missed": 1, "refused": 1}
    assert report.percent == round(100 * 54 / 56, 1)
    by_id = {e.entry_id: e for e in report.entries}
    assert list(by_id) == ["ca-breakfast", "d3-lunch", "k2-lunch", "ca-dinner"]
    assert dict(by_id["ca-breakfast"].counts) == {"on time": 13, "late": 1}
    assert dict(by_id["d3-lunch"].counts) == {"on time": 13, "late": 1}
    assert dict(by_id["k2-lunch"].counts) == {"on time": 13, "late": 1}
    assert dict(by_id["ca-dinner"].counts) == {"on time": 12, "missed": 1, "refused": 1}
    assert dict(by_id["ca-dinner"].reasons) == {"jammed": 1}
    assert by_id["ca-dinner"].percent == round(100 * 12 / 14, 1)
    percents = {d.day - FIRST: d.percent for d in report.days}
    assert percents == {i: (75.0 if i in (5, 9) else 100.0) for i in range(14)}
    assert report.overrides == [] and report.schedule_names == ["bone-health"]


def test_late_and_on_time_instances_carry_their_times(history):
    report = build_report(history)
    day2 = {i.entry_id: i for i in report.days[2].instances}
    sched = parse(_schedule_bytes())
    assert day2["d3-lunch"].status == "late"
    assert day2["d3-lunch"].t == to_utc(sched.utc, FIRST + 2, 750 + 60)
    day3 = {i.entry_id: i for i in report.days[3].instances}
    assert day3["ca-dinner"].status == "on time"  # exactly 30 min after `at`


def test_days_option_keeps_the_last_n_days(history):
    report = build_report(history, days=5)
    assert [d.day - FIRST for d in report.days] == [9, 10, 11, 12, 13]
    assert dict(report.counts) == {"on time": 19, "refused": 1}


def test_without_schedule_records_schedules_apply_from_their_compile_day(tmp_path, data_root):
    store = simulate(tmp_path / "board", with_schedule_record=False)
    history = DeviceHistory(DEVICE, data_root)
    pull(store, history)
    history.save_schedule(_schedule_bytes())
    assert dict(build_report(history).counts) == {
        "on time": 51,
        "late": 3,
        "missed": 1,
        "refused": 1,
    }


def test_a_dose_with_no_record_after_its_window_closed_is_missed_else_pending(tmp_path, data_root):
    sched = parse(_schedule_bytes())
    history = DeviceHistory(DEVICE, data_root)
    history.save_schedule(_schedule_bytes())
    history.add_records(
        [
            (1, to_utc(sched.utc, FIRST, 360), logrec.BOOT, (0,)),
            (
                2,
                to_utc(sched.utc, FIRST, 455),
                logrec.DISPENSE,
                (logrec.id_key("ca-breakfast"), 0x12, 1, 250),
            ),
            # the device was off from here until the next record, the following noon
            (3, to_utc(sched.utc, FIRST + 1, 760), logrec.BOOT, (0,)),
        ]
    )
    report = build_report(history)
    first, second = ({i.entry_id: i.status for i in d.instances} for d in report.days)
    assert first == {
        "ca-breakfast": "on time",
        "d3-lunch": "missed",
        "k2-lunch": "missed",
        "ca-dinner": "missed",
    }
    assert second == {
        "ca-breakfast": "missed",
        "d3-lunch": "pending",
        "k2-lunch": "pending",
        "ca-dinner": "pending",
    }
    assert report.days[1].percent == 0.0


# ----- the command in the terminal -------------------------------------------------------


def _invoke(*args):
    return CliRunner().invoke(main, ["report", *args])


def test_terminal_report_shows_calendar_legend_table_and_overrides(history):
    result = _invoke()
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.splitlines()[0] == f"Supplement adherence: dispenser {DEVICE}"
    assert out.count(DEVICE) == 2  # the title, and the id once below it: no repeated title
    assert "2026-11-30 to 2026-12-13, schedule bone-health" in out
    for heading in ("Adherence by day", "Mon", "Sun", "week of", "Per dose"):
        assert heading in out
    assert "Nov 30" in out and "Dec 07" in out  # the two week rows
    assert out.count("75%") == 2 and out.count("100%") >= 12
    assert "colours:" in out and "under 50%" in out and "✗ missed" in out
    assert "jammed ×1" in out and "86%" in out  # ca-dinner: 12 of 14
    overall = "Overall 96% taken (54 of 56 doses): 51 on time, 3 late, 1 refused, 1 missed"
    assert overall in out
    assert "ca (calcium carbonate): 92 pills, runs out 2027-01-29, in 47 days" in out
    assert "Clinician overrides: none" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_json_report(history):
    result = _invoke("--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["counts"] == {"on time": 51, "late": 3, "missed": 1, "refused": 1}
    assert data["late_after_min"] == 30
    assert [d["percent"] for d in data["days"]].count(75.0) == 2
    assert data["doses"][3]["refused"] == {"jammed": 1}


def test_overrides_are_shown_in_terminal_and_html(tmp_path, data_root):
    obj = json.loads(_schedule_bytes())
    obj["ovr"] = [{"rule": "D3-UL", "by": "Dr A. Example", "why": "deficiency <25 nmol/L"}]
    obj.pop("sha256")
    store = simulate(tmp_path / "board", with_schedule_record=False)
    history = DeviceHistory(DEVICE, data_root)
    pull(store, history)
    history.save_schedule(with_hash(obj))
    result = _invoke("--html", str(tmp_path / "r.html"))
    assert result.exit_code == 0, result.output
    line = "Clinician override D3-UL: signed off by Dr A. Example (deficiency <25 nmol/L)"
    assert line in result.output
    page = (tmp_path / "r.html").read_text()
    assert "D3-UL: signed off by Dr A. Example (deficiency &lt;25 nmol/L)" in page


def _error_line(result) -> str:
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pillctl: "), result.output
    return lines[0]


def test_no_stored_device_says_to_run_logs_first(data_root):
    assert "run `pillctl logs` first" in _error_line(_invoke())


def test_several_devices_without_device_option_lists_them(history, data_root):
    DeviceHistory("other", data_root).add_records([(1, 0, logrec.BOOT, (0,))])
    line = _error_line(_invoke())
    assert f"({DEVICE}, other)" in line and "--device" in line
    assert _invoke("--device", DEVICE).exit_code == 0
    assert "stored: " in _error_line(_invoke("--device", "nope"))


def test_a_device_without_a_saved_schedule_is_an_error(tmp_path, data_root):
    history = DeviceHistory(DEVICE, data_root)
    pull(simulate(tmp_path / "board"), history)
    assert "no schedule saved" in _error_line(_invoke())


def test_unwritable_html_path_is_one_line(history, tmp_path):
    assert "cannot write" in _error_line(_invoke("--html", str(tmp_path / "no/such/dir/r.html")))


# ----- the HTML file ---------------------------------------------------------------------


class _ReportParser(HTMLParser):
    """Collects the calendar's day cells (date, percent, fill, tooltip) and the table rows."""

    def __init__(self):
        super().__init__()
        self.cells: list[dict] = []
        self.rows: list[list[str]] = []
        self.external: list[str] = []
        self._in_title = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "link", "img", "iframe") or "src" in a or "href" in a:
            self.external.append(tag)
        if tag == "g" and a.get("class") == "day":
            self.cells.append({"date": a["data-date"], "percent": a["data-percent"], "title": ""})
        elif tag == "rect" and self.cells and "fill" not in self.cells[-1]:
            self.cells[-1]["fill"] = a["fill"]
        elif tag == "title" and self.cells:
            self._in_title = True
        elif tag == "tr" and a.get("class") == "dose":
            self.rows.append([])
        elif tag == "td" and self.rows:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._in_title and self.cells:
            self.cells[-1]["title"] += data
        if self._cell is not None:
            self._cell.append(data)


GREEN, YELLOW = BANDS[0][1], BANDS[2][1]


@pytest.fixture
def html_report(history, tmp_path) -> Path:
    path = tmp_path / "report.html"
    result = _invoke("--html", str(path))
    assert result.exit_code == 0, result.output
    assert f"wrote {path}" in result.output
    assert not list(tmp_path.glob("*.tmp"))  # written atomically, nothing left behind
    return path


def test_html_has_one_svg_cell_per_day_and_a_row_per_dose(html_report):
    page = html_report.read_text()
    parser = _ReportParser()
    parser.feed(page)
    assert parser.external == []  # self-contained: nothing to fetch
    assert len(parser.cells) == 14
    assert parser.cells[0]["date"] == "2026-11-30" and parser.cells[-1]["date"] == "2026-12-13"
    by_date = {c["date"]: c for c in parser.cells}
    assert by_date["2026-12-05"]["fill"] == YELLOW and by_date["2026-12-05"]["percent"] == "75.0"
    assert by_date["2026-12-05"]["title"] == "2026-12-05: 3/4 taken (3 on time, 1 missed)"
    assert by_date["2026-12-09"]["title"] == "2026-12-09: 3/4 taken (3 on time, 1 refused)"
    assert by_date["2026-12-02"]["title"] == "2026-12-02: 4/4 taken (2 on time, 2 late)"
    assert sum(c["fill"] == GREEN for c in parser.cells) == 12
    assert parser.rows == [  # doses by what they give, as the schedule names it
        ["calcium carbonate", "breakfast", "13", "1", "0", "0", "", "100%"],
        ["vitamin D3", "lunch", "13", "1", "0", "0", "", "100%"],
        ["vitamin K2 (MK-7)", "lunch", "13", "1", "0", "0", "", "100%"],
        ["calcium carbonate", "dinner", "12", "0", "1", "1", "jammed ×1", "86%"],
    ]
    # which dose was not taken on which day, in text that a printout keeps
    not_taken = re.search(r'<ul class="not-taken">(.*?)</ul>', page)
    assert not_taken is not None
    assert [unescape(item) for item in re.findall("<li>(.*?)</li>", not_taken.group(1))] == [
        "Saturday 2026-12-05: calcium carbonate at dinner, missed",
        "Wednesday 2026-12-09: calcium carbonate at dinner, refused (jammed)",
    ]
    assert DEVICE in page and "2026-11-30 to 2026-12-13" in page
    assert page.count("<h1>") == 1 and "Overall -" not in page
    assert page.count("Clinician overrides") == 1  # the heading, not again as its bullet
    assert '<ul class="overrides"><li>none</li></ul>' in page
    assert "@media print" in page


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium not installed: .ci/run installs Debian's chromium package")
    return found


def _run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_chromium_renders_the_day_cells_and_adherence_text(html_report, tmp_path):
    result = _run_chromium(tmp_path, "--dump-dom", html_report.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    parser = _ReportParser()
    parser.feed(result.stdout)
    assert len(parser.cells) == 14 and len(parser.rows) == 4
    assert "Overall 96% taken" in result.stdout and "75%" in result.stdout


def _png_pixels(data: bytes) -> set[tuple[int, int, int]]:
    """The distinct RGB colours of an 8-bit, non-interlaced RGB/RGBA PNG."""
    return {pixel for row in png_rows(data) for pixel in row}


def png_rows(data: bytes) -> list[list[tuple[int, int, int]]]:
    """The RGB pixels of an 8-bit, non-interlaced RGB/RGBA PNG, row by row."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and colour_type in (2, 6) and interlace == 0
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    previous = bytearray(stride)
    rows = []
    for y in range(height):
        filter_type = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            up_left = previous[i - bpp] if i >= bpp else 0
            if filter_type == 1:
                line[i] = (line[i] + left) & 0xFF
            elif filter_type == 2:
                line[i] = (line[i] + up) & 0xFF
            elif filter_type == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif filter_type == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + pred) & 0xFF
        rows.append([tuple(line[i : i + 3]) for i in range(0, stride, bpp)])
        previous = line
    return rows  # type: ignore[return-value]


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def test_chromium_screenshot_shows_the_coloured_calendar(html_report, tmp_path):
    shot = tmp_path / "shot.png"
    result = _run_chromium(
        tmp_path, f"--screenshot={shot}", "--window-size=900,700", html_report.as_uri()
    )
    assert result.returncode == 0, result.stderr[-2000:]
    colours = _png_pixels(shot.read_bytes())
    assert len(colours) > 10  # text, cells and legend: far from a blank page
    assert _rgb(GREEN) in colours and _rgb(YELLOW) in colours
