"""Runs every figure in bench/ and records them in bench/results.json."""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from pathlib import Path

import bench

RESULTS = Path(__file__).resolve().parent / "results.json"


def all_figures():
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        yield from getattr(module, "FIGURES", [])


def main(selected: list[str]) -> int:
    results: dict[str, dict[str, object]] = {}
    failed = False
    for figure in all_figures():
        if selected and figure.__name__ not in selected:
            continue
        try:
            name, value, unit = figure()
        except Exception as exc:  # one broken figure must not hide the others
            failed = True
            print(f"{figure.__name__}: failed: {type(exc).__name__}: {exc}", flush=True)
            continue
        results[name] = {"value": value, "unit": unit}
        print(f"{name}: {value} {unit}", flush=True)
    # Merge: figures measured elsewhere (make soak's) keep their last values.
    merged = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    merged.update(results)
    RESULTS.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
