"""A small scanner of the TOML source: line numbers for key paths, and limits on the absurd.

``tomllib`` gives no positions for the values it returns, and it recurses once per nesting
level and turns every digit string into an int. So before tomllib sees a file, this scanner
walks it once (strings, comments, headers, keys, arrays and inline tables; it does not
validate, tomllib does that) and

- refuses nesting deeper than MAX_DEPTH and bare values (numbers, dates) longer than
  MAX_BARE characters, with the line and column, so nothing absurd reaches tomllib;
- records the line of every key path (``doses[1].pills`` -> 42), so every finding can name
  the line a person has to change.

It never raises anything but ScanError, whatever the text: an input it cannot follow only
leaves some paths without a line.
"""

from __future__ import annotations

from collections.abc import Callable

MAX_DEPTH = 8
"""Arrays and inline tables nested inside one value; a schedule needs 2."""
MAX_BARE = 40
"""Characters of a bare value (number, date, time, boolean); a date-time needs 35."""

_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_VALUE_END = frozenset(",]}#\r\n")


class ScanError(Exception):
    def __init__(self, message: str, line: int, column: int):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class _Scanner:
    def __init__(self, text: str):
        self.s = text
        self.n = len(text)
        self.i = 0
        self.line = 1
        self.line_start = 0
        self.lines: dict[str, int] = {}
        self.tables: dict[str, int] = {}  # array-of-tables path -> entries seen so far
        self.table = ""

    # --- moving ----------------------------------------------------------------------
    def _to(self, j: int) -> None:
        """Advance to j, counting the newlines passed."""
        j = min(j, self.n)
        newlines = self.s.count("\n", self.i, j)
        if newlines:
            self.line += newlines
            self.line_start = self.s.rfind("\n", self.i, j) + 1
        self.i = j

    def _error(self, message: str) -> ScanError:
        return ScanError(message, self.line, self.i - self.line_start + 1)

    def _spaces(self) -> None:
        while self.i < self.n and self.s[self.i] in " \t":
            self.i += 1

    def _blank(self) -> None:
        """Spaces, newlines and comments."""
        while self.i < self.n:
            c = self.s[self.i]
            if c in " \t\r\n":
                self._to(self.i + 1)
            elif c == "#":
                self._rest_of_line()
            else:
                return

    def _rest_of_line(self) -> None:
        end = self.s.find("\n", self.i)
        self._to(self.n if end < 0 else end)

    # --- statements ------------------------------------------------------------------
    def scan(self) -> dict[str, int]:
        while True:
            self._blank()
            if self.i >= self.n:
                return self.lines
            if self.s.startswith("[[", self.i):
                self._header(2)
            elif self.s[self.i] == "[":
                self._header(1)
            else:
                self._keyval(self.table, 0)
            self._rest_of_line()

    def _resolve(self, parts: list[str]) -> str:
        path = ""
        for part in parts:
            path = child(path, part)
            if path in self.tables:
                path = child(path, self.tables[path] - 1)
        return path

    def _header(self, brackets: int) -> None:
        line = self.line
        self.i += brackets
        parts = self._key()
        if not parts:
            return
        if brackets == 2:
            name = child(self._resolve(parts[:-1]), parts[-1])
            count = self.tables.get(name, 0)
            self.tables[name] = count + 1
            self.table = child(name, count)
            self.lines.setdefault(name, line)
        else:
            self.table = self._resolve(parts)
        self.lines.setdefault(self.table, line)

    def _key(self) -> list[str] | None:
        parts = []
        while True:
            self._spaces()
            if self.i >= self.n:
                return None
            c = self.s[self.i]
            if c in "\"'":
                start = self.i
                self._string()
                parts.append(self.s[start + 1 : self.i - 1])
            else:
                start = self.i
                while self.i < self.n and self.s[self.i] in _BARE_KEY:
                    self.i += 1
                if self.i == start:
                    return None
                parts.append(self.s[start : self.i])
            self._spaces()
            if self.i < self.n and self.s[self.i] == ".":
                self.i += 1
                continue
            return parts

    def _keyval(self, base: str, depth: int) -> None:
        line = self.line
        parts = self._key()
        if not parts or self.i >= self.n or self.s[self.i] != "=":
            return  # not a key = value: tomllib reports it
        self.i += 1
        path = base
        for part in parts:
            path = child(path, part)
            self.lines.setdefault(path, line)
        self._value(path, depth)

    # --- values ----------------------------------------------------------------------
    def _value(self, path: str, depth: int) -> None:
        self._spaces()
        if self.i >= self.n:
            return
        c = self.s[self.i]
        if c in "\"'":
            self._string()
        elif c in "[{":
            if depth >= MAX_DEPTH:
                raise self._error(f"arrays and tables nested more than {MAX_DEPTH} deep")
            self.i += 1
            if c == "[":
                self._array(path, depth + 1)
            else:
                self._inline_table(path, depth + 1)
        else:
            start = self.i
            while self.i < self.n and self.s[self.i] not in _VALUE_END:
                self.i += 1
            token = self.s[start : self.i].rstrip()
            if len(token) > MAX_BARE:
                self.i = start
                raise self._error(
                    f"a value of {len(token)} characters; numbers, dates and times are at "
                    f"most {MAX_BARE}"
                )

    def _entries(self, close: str, other: str, entry: Callable[[], None]) -> None:
        """Comma-separated entries up to ``close``; ``entry()`` scans one."""
        while True:
            self._blank()
            if self.i >= self.n:
                return
            c = self.s[self.i]
            if c == close:
                self.i += 1
                return
            if c == ",":
                self.i += 1
                continue
            if c == other:
                return  # unbalanced: tomllib reports it
            before = self.i
            entry()
            if self.i == before:
                self.i += 1  # something tomllib will refuse; keep moving

    def _array(self, path: str, depth: int) -> None:
        index = 0

        def element() -> None:
            nonlocal index
            here = child(path, index)
            self.lines.setdefault(here, self.line)
            self._value(here, depth)
            index += 1

        self._entries("]", "}", element)

    def _inline_table(self, path: str, depth: int) -> None:
        self._entries("}", "]", lambda: self._keyval(path, depth))

    def _string(self) -> None:
        quote = self.s[self.i]
        if self.s.startswith(quote * 3, self.i):
            end = self._closing(quote * 3, self.i + 3, quote == '"')
            extra = 0  # up to two more quotes may end the content (TOML 1.0)
            while extra < 2 and end < self.n and self.s[end] == quote:
                end += 1
                extra += 1
            self._to(end)
            return
        end = self._closing(quote, self.i + 1, quote == '"')
        newline = self.s.find("\n", self.i)
        if 0 <= newline < end:
            self._to(newline)  # an unterminated string: tomllib reports it
        else:
            self._to(end)

    def _closing(self, quote: str, start: int, escapes: bool) -> int:
        """Index just after the closing ``quote`` (the end of the text if there is none)."""
        j = start
        while True:
            k = self.s.find(quote, j)
            if k < 0:
                return self.n
            if escapes:
                backslashes = 0
                while k - backslashes - 1 >= start and self.s[k - backslashes - 1] == "\\":
                    backslashes += 1
                if backslashes % 2:
                    j = k + 1
                    continue
            return k + len(quote)


def scan(text: str) -> dict[str, int]:
    """Line of every key path in ``text``; raises ScanError for absurd nesting or values."""
    return _Scanner(text).scan()


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of ``path`` (the first of a comma-separated list), or of its nearest parent."""
    path = path.split(",")[0].strip()
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            return None
        path = path[:cut]
    return None
