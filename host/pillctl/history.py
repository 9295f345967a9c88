"""The host's local store of each dispenser's log, so reports work without the device.

One folder per device id under the data root::

    <root>/<device id>/log.jsonl               one logfields.as_dict record per line, by seq
    <root>/<device id>/schedules/<sha256>.json  compiled device schedules, by their identity

`pillctl logs` pulls records "since last_seq()" and hands them to add_records(), so a
resumed or repeated pull never stores a record twice. Each batch is written, flushed and
fsynced before add_records() returns; a crash can only leave a torn (newline-less) last
line, which readers ignore and the next write cuts off.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from dispenser.core import logrec
from dispenser.core.schedule import ScheduleError, verify_hash
from pillctl.errors import PillctlError
from pillctl.logfields import as_dict
from pillctl.names import Names, amount_unit
from pillctl.schedule.refusal import explain

DATA_ENV = "PILLCTL_DATA_DIR"
LOG_NAME = "log.jsonl"
SCHEDULES_DIR = "schedules"
EXPORT_FORMATS = ("csv", "jsonl")
# Device ids become folder names: keep them to a safe alphabet.
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def data_root() -> Path:
    """Where device folders live: $PILLCTL_DATA_DIR, else $XDG_DATA_HOME/pillctl/devices,
    else ~/.local/share/pillctl/devices."""
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "pillctl" / "devices"


def known_devices(root: Path | None = None) -> list[str]:
    """Ids of the devices with a stored log, sorted."""
    root = root or data_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / LOG_NAME).is_file())


# The CSV export: one row per record, in the columns a spreadsheet user reads, named by the
# schedule; whatever else a record says goes, in words, into `details`. (JSONL keeps every
# raw field.)
CSV_COLUMNS = (
    "seq", "time_utc", "local_time", "kind", "dose", "meal", "compartment", "pills",
    "amount", "unit", "count", "reason", "details",
)  # fmt: skip
# Names.describe's fields that have a column of their own (a dose, item or entry is `dose`).
_CSV_OWN = {"dose", "entry", "item", "meal", "compartment", "pills", "amount", "count", "reason"}


def csv_columns() -> list[str]:
    return list(CSV_COLUMNS)


def _fsync_dir(path: Path) -> None:
    # A new file's directory entry is only durable once the directory itself is synced.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DeviceHistory:
    """The stored log and schedules of one device."""

    def __init__(self, device_id: str, root: Path | None = None) -> None:
        if not _SAFE_ID.match(device_id):
            raise PillctlError(
                f"device id {device_id!r} is not usable as a folder name "
                "(letters, digits, '.', '_' and '-', at most 64)"
            )
        self.device_id = device_id
        self.path = (root or data_root()) / device_id
        self._log = self.path / LOG_NAME
        self._last_seq: int | None = None

    # ----- the log -----------------------------------------------------------------------

    def _read_lines(self) -> tuple[list[dict], int]:
        """The stored records and the byte length of the whole (newline-ended) lines; a
        torn last line is left out of both."""
        try:
            data = self._log.read_bytes()
        except FileNotFoundError:
            return [], 0
        except OSError as exc:
            raise PillctlError(f"cannot read {self._log}: {exc.strerror or exc}") from exc
        complete = data.rfind(b"\n") + 1
        records = []
        for number, line in enumerate(data[:complete].splitlines(), start=1):
            try:
                records.append(json.loads(line))
            except ValueError as exc:
                raise PillctlError(
                    f"{self._log} line {number} is corrupt; move the file away and pull the "
                    "log again with `pillctl logs --since 0`"
                ) from exc
        return records, complete

    def last_seq(self) -> int:
        """Highest stored sequence number, 0 if nothing is stored."""
        if self._last_seq is None:
            records, _ = self._read_lines()
            self._last_seq = max((r["seq"] for r in records), default=0)
        return self._last_seq

    def add_records(self, records: Iterable[tuple]) -> int:
        """Append the decoded records (seq, t, kind, fields) newer than last_seq(), in the
        given order; returns how many were stored."""
        stored, complete = self._read_lines()
        last = max((r["seq"] for r in stored), default=0)
        lines = []
        for record in records:
            if record[0] > last:
                last = record[0]
                lines.append(json.dumps(as_dict(record)) + "\n")
        if lines:
            self.path.mkdir(parents=True, exist_ok=True)
            created = not self._log.exists()
            try:
                with open(self._log, "r+b" if not created else "wb") as f:
                    f.truncate(complete)  # cut off a torn line a crash left behind
                    f.seek(complete)
                    f.write("".join(lines).encode())
                    f.flush()
                    os.fsync(f.fileno())
                if created:
                    _fsync_dir(self.path)
            except OSError as exc:
                raise PillctlError(f"cannot write {self._log}: {exc.strerror or exc}") from exc
        self._last_seq = last
        return len(lines)

    def records(self) -> list[dict]:
        """logfields.as_dict of every stored record, oldest first (JSON types: tuples come
        back as lists, raw payloads of unknown kinds as hex strings)."""
        return self._read_lines()[0]

    # ----- schedules ---------------------------------------------------------------------

    def save_schedule(self, data: bytes) -> None:
        """Keep a compiled device schedule, named by its sha256 (the identity the device
        logs in SCHEDULE records), so reports can name the doses behind the log's keys."""
        try:
            sha = verify_hash(bytes(data))
        except ScheduleError as exc:
            raise PillctlError(f"not a valid device schedule: {explain(exc)}") from exc
        folder = self.path / SCHEDULES_DIR
        target = folder / f"{sha}.json"
        if target.exists():
            return
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{sha}.tmp"
        try:
            with open(temporary, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, target)
            _fsync_dir(folder)
        except OSError as exc:
            raise PillctlError(f"cannot write {target}: {exc.strerror or exc}") from exc

    def schedules(self) -> list[dict]:
        """The saved schedules as parsed JSON, oldest compile day first."""
        folder = self.path / SCHEDULES_DIR
        if not folder.is_dir():
            return []
        found = [json.loads(p.read_bytes()) for p in sorted(folder.glob("*.json"))]
        return sorted(found, key=lambda s: (s["utc"][0][0], s["sha256"]))

    # ----- export ------------------------------------------------------------------------

    def export(self, fmt: str, out: TextIO, since: int = 0) -> None:
        """Write the stored records after sequence `since` to `out` as "jsonl" (one record
        per line) or "csv" (header row, then one row per record over csv_columns())."""
        if fmt not in EXPORT_FORMATS:
            raise PillctlError(f"unknown export format {fmt!r}: use {' or '.join(EXPORT_FORMATS)}")
        records = [record for record in self.records() if record["seq"] > since]
        saved = self.schedules()
        names = Names(saved[-1] if saved else None)  # the latest schedule names the keys
        if fmt == "jsonl":
            for record in records:
                named = {**record, "names": names.describe(record)}
                if record["t"]:
                    named["local"] = names.local(record["t"], "%Y-%m-%dT%H:%M:%S%z")
                out.write(json.dumps(named, ensure_ascii=False) + "\n")
            return
        writer = csv.DictWriter(out, fieldnames=csv_columns(), lineterminator="\n")
        writer.writeheader()
        for record in records:
            writer.writerow(_csv_row(record, names))


def _csv_row(record: dict, names: Names) -> dict:
    t = record["t"]
    named = names.describe(record)
    nutrient = record.get("hopper_nut")
    row = {
        "seq": record["seq"],
        # t is 0 when the device's clock was unknown: no wall time to show.
        "time_utc": datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t else "",
        "local_time": names.local(t, "%Y-%m-%d %H:%M:%S") if t else "",
        "kind": record["kind"],
        "dose": next((named[k] for k in ("dose", "entry", "item") if k in named), ""),
        "meal": named.get("meal", ""),
        "compartment": named.get("compartment", ""),
        "pills": record.get("pills", ""),
        "amount": record.get("amount", ""),
        "unit": amount_unit(logrec.unpack_nutrient(nutrient)) if isinstance(nutrient, int) else "",
        "count": record.get("count", ""),
        "reason": named.get("reason", ""),
    }
    row["details"] = " ".join(f"{k}={v}" for k, v in named.items() if k not in _CSV_OWN)
    return row
