"""Dispenser firmware: pure core, drivers and the asyncio app."""

VERSION = "0.1.0"
PROTOCOL_VERSION = 1
# Shared by the supervisor and the rescue path (which it loads only on a failure), here so
# that neither imports the other.
WATCHDOG_MS = 8000  # the RP2040's longest watchdog period is 8.3 s
CRASH_LIMIT = 3  # crashes in a row (docs/supervision.md) that halt the board
