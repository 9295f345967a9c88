"""Typed field access on a TOML document that reports problems with their dotted path.

The reader never raises on bad input: it records a SCHEMA finding and returns None, so one
run reports every structural problem in the file, not just the first.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from dispenser.core import schedule as device
from pillctl.schedule.findings import SCHEMA_RULE, Finding
from pillctl.schedule.model import EVERY_DAY, WEEKDAYS
from pillctl.schedule.rules import ERROR

_REQUIRED = object()
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
MINUTES_PER_DAY = 1440
FIRST_DATE = dt.date(2000, 1, 1)
LAST_DATE = dt.date(2099, 12, 31)
"""Dates a regimen can start or end on; far dates are typing mistakes (and 9999-12-31 has no
next day to count from)."""
MIN_AMOUNT = Decimal("0.001")
MAX_AMOUNT = Decimal(1_000_000)
"""Strengths outside these are typing mistakes; the device's own limits are far narrower."""


def child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


_UNPRINTABLE = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Cs": "a surrogate",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}
"""Unicode categories no name shows as written (bidi overrides are formatting characters)."""
_JOINERS = "\u200c\u200d"
"""Zero-width (non-)joiners: formatting characters that emoji sequences and some scripts need."""


def unprintable(value: str) -> str | None:
    """The first character of a name that is not printable Unicode, or None."""
    for c in value:
        if c not in _JOINERS and unicodedata.category(c) in _UNPRINTABLE:
            return c
    return None


def printable_name(value: str) -> bool:
    """Any printable Unicode (umlauts, µ, dashes, any script, emoji), and what the device's
    own check of a name accepts (dispenser.core.schedule.name_ok, a looser one)."""
    return unprintable(value) is None and device.name_ok(value)


CHARSETS = {
    "id": (device.id_ok, "letters, digits, '-' and '_' (ASCII)"),
    "text": (device.text_ok, "printable ASCII characters (no accents or emoji)"),
    "name": (printable_name, "printable characters (any script, no control characters)"),
}
"""What the device accepts in ids, texts and names, by its own checks (dispenser.core.schedule).
Names are counted in UTF-8 bytes, as the device counts them; ids and texts in characters."""


def device_text(value: str, charset: str) -> bool:
    return CHARSETS[charset][0](value)


def _character(c: str) -> str:
    """`U+202E RIGHT-TO-LEFT OVERRIDE`, `U+0007 (a control character)`."""
    kind = _UNPRINTABLE.get(unicodedata.category(c), "a character")
    return f"U+{ord(c):04X} {unicodedata.name(c, f'({kind})')}"


def shown(value: Any) -> str:
    """A value as a person wrote it in TOML (never a Python repr), cut to a readable length."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # as written (any script), with only what cannot be seen escaped: controls, bidi
        # overrides and the like, and the backslash that would make an escape ambiguous
        text = "".join(
            c.encode("unicode_escape").decode("ascii") if c == "\\" or unprintable(c) else c
            for c in value[:40]
        ).replace('"', '\\"')
        return f'"{text}"' if len(value) <= 40 else f'"{text}…"'
    if isinstance(value, Decimal) and not value.is_finite():
        return "nan" if value.is_nan() else "-inf" if value < 0 else "inf"
    if isinstance(value, int | Decimal):
        return str(value)  # at most 40 characters (tomlscan.MAX_BARE)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[]" if not value else f"an array of {len(value)} values"
    return _type_name(value)


def _type_name(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", str: "a string", Decimal: "a float"}
    names.update({list: "an array", dict: "a table", dt.date: "a date", dt.time: "a time"})
    names[dt.datetime] = "a date-time"
    return names.get(type(value), type(value).__name__)


class SchemaReader:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.misspelt: set[str] = set()
        """Paths of known keys that an unknown key was probably meant to be: their absence
        follows from the typo already reported, so it is not reported again."""

    def error(self, path: str, message: str, value: Any = None) -> None:
        text = None if value is None else shown(value)
        self.findings.append(Finding(SCHEMA_RULE, ERROR, message, path=path, value=text))

    def _wrong_type(self, path: str, expected: str, value: Any) -> None:
        self.error(path, f"expected {expected}, got {_type_name(value)}", value)

    def table(self, value: Any, path: str, keys: tuple[str, ...]) -> dict | None:
        """``value`` if it is a table; every key outside ``keys`` is reported as unknown."""
        if not isinstance(value, dict):
            self._wrong_type(path, "a table", value)
            return None
        for key in value:
            if key not in keys:
                close = difflib.get_close_matches(key, keys, n=1)
                if close:
                    hint = f"; did you mean '{close[0]}'?"
                    self.misspelt.add(child(path, close[0]))
                else:
                    hint = f"; known keys: {', '.join(keys)}"
                self.error(child(path, key), f"unknown key '{key}'{hint}")
        return value

    def tables(
        self,
        parent: dict,
        key: str,
        path: str,
        keys: tuple[str, ...],
        at_most: int | None = None,
        why: str = "",
    ) -> Iterator[tuple[str, dict]]:
        """Each table of the array of tables ``parent[key]``, with its path; none if absent,
        and none but one error when there are more than ``at_most`` (``why`` says why)."""
        value = parent.get(key, [])
        here = child(path, key)
        if not isinstance(value, list):
            self._wrong_type(here, "an array of tables", value)
            return
        if at_most is not None and len(value) > at_most:
            self.error(here, f"{len(value)} entries; at most {at_most}{why}")
            return
        for index, entry in enumerate(value):
            entry_path = child(here, index)
            table = self.table(entry, entry_path, keys)
            if table is not None:
                yield entry_path, table

    def _get(self, table: dict, key: str, path: str, default: Any) -> tuple[bool, Any]:
        if key in table:
            return True, table[key]
        if default is _REQUIRED and child(path, key) not in self.misspelt:
            self.error(child(path, key), f"missing required field '{key}'")
        return False, default

    def integer(
        self,
        table: dict,
        key: str,
        path: str,
        minimum: int,
        maximum: int | None = None,
        default: Any = _REQUIRED,
    ) -> int | None:
        present, value = self._get(table, key, path, default)
        if not present:
            return None if default is _REQUIRED else default
        here = child(path, key)
        if isinstance(value, bool) or not isinstance(value, int):
            self._wrong_type(here, "an integer", value)
            return None
        if value < minimum or (maximum is not None and value > maximum):
            upper = "" if maximum is None else f"..{maximum}"
            self.error(here, f"must be in {minimum}{upper or ' or more'}", value)
            return None
        return value

    def amount(self, table: dict, key: str, path: str) -> Decimal | None:
        """A positive number (integer or float), kept exact."""
        present, value = self._get(table, key, path, _REQUIRED)
        if not present:
            return None
        here = child(path, key)
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self._wrong_type(here, "a number", value)
            return None
        amount = Decimal(value)
        # Checked in this order: comparing a NaN raises, and a huge exponent would make
        # the exact conversion build a number with millions of digits.
        if not amount.is_finite() or amount <= 0:
            self.error(here, "must be a positive amount", value)
            return None
        if not MIN_AMOUNT <= amount <= MAX_AMOUNT:
            self.error(here, f"must be in {MIN_AMOUNT}..{MAX_AMOUNT}", value)
            return None
        return amount

    def text(
        self,
        table: dict,
        key: str,
        path: str,
        default: Any = _REQUIRED,
        max_length: int = 200,
        charset: str | None = None,
    ) -> str | None:
        """A non-blank string of at most ``max_length`` characters; with ``charset`` (a
        description, checked by ``device_text``) only characters the device counts alike."""
        present, value = self._get(table, key, path, default)
        if not present:
            return default if default is not _REQUIRED else None
        here = child(path, key)
        if not isinstance(value, str):
            self._wrong_type(here, "a string", value)
            return None
        if not value.strip():
            self.error(here, "must not be empty")
            return None
        size, unit = len(value), "characters"
        if charset == "name":
            size, unit = len(value.encode()), "bytes in UTF-8"
        if size > max_length:
            self.error(here, f"is {size} {unit}; at most {max_length}", value)
            return None
        if charset is not None and not device_text(value, charset):
            bad = unprintable(value) if charset == "name" else None
            which = f"; {_character(bad)} is not" if bad else ""
            self.error(here, f"may contain only {CHARSETS[charset][1]}{which}", value)
            return None
        return value

    def choice(
        self, table: dict, key: str, path: str, choices: tuple[str, ...], default: Any = _REQUIRED
    ) -> str | None:
        value = self.text(table, key, path, default)
        if value is None or value in choices:
            return value
        self.error(
            child(path, key), f"unknown {key} '{value}'; expected one of {', '.join(choices)}"
        )
        return None

    def boolean(self, table: dict, key: str, path: str, default: Any = _REQUIRED) -> bool | None:
        present, value = self._get(table, key, path, default)
        if present and not isinstance(value, bool):
            self._wrong_type(child(path, key), "true or false", value)
            return None
        return value if value is not _REQUIRED else None

    def clock_time(self, value: Any, path: str) -> int | None:
        """Minutes after midnight from ``"HH:MM"`` or a TOML local time."""
        if isinstance(value, dt.time):
            if value.second or value.microsecond:
                self.error(path, "times are whole minutes", value.isoformat())
                return None
            return value.hour * 60 + value.minute
        if not isinstance(value, str):
            self._wrong_type(path, 'a time "HH:MM"', value)
            return None
        match = _CLOCK.match(value)
        if match is None:
            self.error(path, 'expected a time "HH:MM"', value)
            return None
        hour, minute = int(match[1]), int(match[2])
        if hour > 23 or minute > 59:
            self.error(path, "not a time of day: hours are 00..23 and minutes 00..59", value)
            return None
        return hour * 60 + minute

    def local_date(self, table: dict, key: str, path: str) -> dt.date | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            self._wrong_type(child(path, key), "a date (YYYY-MM-DD)", value)
            return None
        if not FIRST_DATE <= value <= LAST_DATE:
            self.error(child(path, key), f"must be in {FIRST_DATE}..{LAST_DATE}", value)
            return None
        return value

    def weekdays(self, table: dict, key: str, path: str) -> int | None:
        """Weekday bitmask from ``["mon", "wed"]``; every day when absent."""
        value = table.get(key, list(WEEKDAYS))
        here = child(path, key)
        if not isinstance(value, list) or not value:
            self.error(
                here, f"expected a non-empty array of weekdays ({', '.join(WEEKDAYS)})", value
            )
            return None
        mask = 0
        for index, name in enumerate(value):
            if name not in WEEKDAYS:
                self.error(
                    child(here, index),
                    f"not a weekday; expected one of {', '.join(WEEKDAYS)}",
                    name,
                )
                return None
            bit = 1 << WEEKDAYS.index(name)
            if mask & bit:
                self.error(child(here, index), f"weekday '{name}' listed twice")
                return None
            mask |= bit
        return mask if mask else EVERY_DAY

    def string_list(
        self, table: dict, key: str, path: str, choices: tuple[str, ...]
    ) -> tuple[str, ...]:
        value = table.get(key, [])
        here = child(path, key)
        if not isinstance(value, list):
            self._wrong_type(here, "an array of strings", value)
            return ()
        accepted = []
        for index, entry in enumerate(value):
            if entry not in choices:
                self.error(
                    child(here, index),
                    f"unknown {key} entry; expected one of {', '.join(choices)}",
                    entry,
                )
            else:
                accepted.append(entry)
        return tuple(accepted)
