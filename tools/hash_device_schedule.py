"""Rewrite the sha256 member of a hand-edited device schedule file.

Usage: python tools/hash_device_schedule.py FILE...
The hashing rule is documented in docs/device-schedule.md.
"""

import hashlib
import json
import sys


def canonical_with_hash(schedule: dict) -> bytes:
    body = {k: v for k, v in schedule.items() if k != "sha256"}
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    digest = hashlib.sha256(canon).hexdigest()
    return canon[:-1] + b',"sha256":"' + digest.encode() + b'"}'


def main(paths: list[str]) -> int:
    for path in paths:
        with open(path, encoding="utf-8") as f:
            schedule = json.load(f)
        with open(path, "wb") as f:
            f.write(canonical_with_hash(schedule))
        print(f"{path}: rehashed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
