"""The report as a caregiver reads and prints it: a device name, pending shown as pending,
no empty columns or `Overall -`, colours of WCAG AA contrast, a legend without colour."""

# The fixtures data_root and history come from test_report, imported by name for pytest.
# ruff: noqa: F811

from __future__ import annotations

from click.testing import CliRunner
from test_report import DEVICE, FIRST, _schedule_bytes, data_root, history, pull, simulate  # noqa: F401

from dispenser.core import logrec
from dispenser.core.localtime import to_utc
from dispenser.core.schedule import parse
from pillctl.adherence import BANDS, NO_DATA_COLOUR, PENDING_COLOUR, TEXT_COLOUR, build_report
from pillctl.adherence_html import render_html
from pillctl.cli import main
from pillctl.history import DeviceHistory


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_fill_has_wcag_aa_contrast_under_the_text():
    for colour in [c for _, c, _ in BANDS] + [NO_DATA_COLOUR, PENDING_COLOUR]:
        assert contrast(TEXT_COLOUR, colour) >= 4.5, colour


def _one_morning(data_root, minutes_into_day: int) -> DeviceHistory:
    """Breakfast dispensed on the first day, the log ending at `minutes_into_day`."""
    sched = parse(_schedule_bytes())
    history = DeviceHistory(DEVICE, data_root)
    history.save_schedule(_schedule_bytes())
    dispense = (logrec.id_key("ca-breakfast"), 0x22, 1, 250)
    history.add_records(
        [
            (1, to_utc(sched.utc, FIRST, 360), logrec.BOOT, (0,)),
            (2, to_utc(sched.utc, FIRST, 455), logrec.DISPENSE, dispense),
            (3, to_utc(sched.utc, FIRST, minutes_into_day), logrec.BOOT, (0,)),
        ]
    )
    return history


def test_a_day_with_doses_still_to_come_is_not_shown_as_100_percent(data_root):
    report = build_report(_one_morning(data_root, 600))
    day = report.days[0]
    assert day.percent == 100.0  # of what is counted so far ...
    assert day.label() == "1/4 so far" and day.marks() == "………"  # ... but shown as pending
    assert report.overall() == "Overall 100% taken (1 of 1 doses); 3 still to come"
    page = render_html(report)
    assert f'fill="{PENDING_COLOUR}"' in page and "1/4 so far" in page
    assert "why refused" not in page  # nothing was refused: no empty column


def test_nothing_counted_yet_says_so_instead_of_a_dash(data_root):
    sched = parse(_schedule_bytes())
    history = DeviceHistory(DEVICE, data_root)
    history.save_schedule(_schedule_bytes())
    history.add_records([(1, to_utc(sched.utc, FIRST, 360), logrec.BOOT, (0,))])
    report = build_report(history)
    assert report.overall() == "No dose was due yet; 4 still to come"
    assert "Overall -" not in render_html(report)


def test_pillctl_name_titles_the_report(history):
    runner = CliRunner()
    result = runner.invoke(main, ["name", "Anna's kitchen"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(main, ["name"]).output.strip() == "Anna's kitchen"
    out = runner.invoke(main, ["report"]).output
    assert out.splitlines()[0] == "Supplement adherence: Anna's kitchen"
    assert f"device id {DEVICE}" in out


def test_pillctl_name_refuses_an_empty_name_in_one_line(history):
    result = CliRunner().invoke(main, ["name", "   "])
    assert result.exit_code == 1
    assert result.output.strip() == "pillctl: name: give 1 to 60 characters, not 0"


def test_the_report_says_when_each_compartment_runs_out(tmp_path, data_root):
    history = DeviceHistory(DEVICE, data_root)
    pull(simulate(tmp_path / "board"), history)
    history.save_schedule(_schedule_bytes())
    report = build_report(history)
    # 100 calcium pills refilled on day 10 at 06:30, 2 a day from then: 92 left after 4
    # days; the 93rd pill would be needed on the 47th day after the log's last.
    assert report.run_out[2] == "ca (calcium carbonate): 92 pills, runs out 2027-01-29, in 47 days"
    assert report.run_out[0] == "d3 (vitamin D3): stock unknown (no refill logged)"


def test_chromium_screenshot_shows_a_calendar_across_the_page(history, tmp_path):
    from test_report import GREEN, _rgb, _run_chromium, png_rows

    page = tmp_path / "report.html"
    page.write_text(render_html(build_report(history)))
    shot = tmp_path / "shot.png"
    size = "--window-size=1000,900"
    result = _run_chromium(tmp_path, f"--screenshot={shot}", size, page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    rows = png_rows(shot.read_bytes())
    width = len(rows[0])
    green = [x for row in rows for x, pixel in enumerate(row) if pixel == _rgb(GREEN)]
    # Sunday's 100% cell ends in the right third: the calendar uses the page's width
    # (it used a third of it).
    assert max(green) > width * 2 / 3, (max(green), width)
