"""Rewrite the sha256 member of a hand-edited device schedule file.

Usage: python tools/hash_device_schedule.py FILE...
The hashing rule is documented in docs/device-schedule.md and implemented once, in
pillctl.schedule.hashing, which `pillctl compile` uses too.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "host"))

from pillctl.schedule.hashing import with_hash  # noqa: E402


def main(paths: list[str]) -> int:
    for path in paths:
        with open(path, encoding="utf-8") as f:
            schedule = json.load(f)
        with open(path, "wb") as f:
            f.write(with_hash(schedule))
        print(f"{path}: rehashed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
