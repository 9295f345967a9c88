"""validate_worst_ms: the slowest `check_file` (read, scan, parse, rules, compile and the
firmware's own check) over the absurd inputs of issue 10 and the example schedules, in
process. The CLI adds its start-up (about 0.3 s) to this."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from pillctl.schedule import check_file

ROOT = Path(__file__).resolve().parents[1]


def _inputs() -> dict[str, str]:
    base = (ROOT / "schedules" / "bone-health.toml").read_text(encoding="utf-8")
    inputs = {path.name: path.read_text(encoding="utf-8") for path in ROOT.glob("schedules/*")}
    inputs |= {
        "nested": base + "x = " + "[" * 50_000 + "]" * 50_000,
        "digits": base.replace("strength = 2000", "strength = " + "9" * 200_000),
        "exponent": base.replace("strength = 2000", "strength = 1e99999999"),
        "nan": base.replace("strength = 2000", "strength = nan"),
        "tz-folder": base.replace('"Europe/Berlin"', '"Europe"'),
        "largest": base + "# padding\n" * 25_000,  # just under the 256 KB limit
    }
    return inputs


def validate_worst_ms():
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in _inputs().items():
            path = Path(tmp) / f"{name}.toml"
            path.write_text(text, encoding="utf-8")
            started = time.perf_counter()
            check_file(path)
            worst = max(worst, time.perf_counter() - started)
    return "validate_worst_ms", round(worst * 1000), "ms"


FIGURES = [validate_worst_ms]
