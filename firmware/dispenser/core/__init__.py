"""The pure core: the dispensing rules, the schedule model and its check, log records, local
time, nutrients, the CRC, protocol framing, timekeeping arithmetic, forecasts and the LED
pattern policy.

Contract (tests/test_layers.py guards it):
- Pure: the time is always an argument (UTC seconds, or ticks the caller read), never read
  here; no file, pin, socket or task. The same code runs under CPython (the host, pillctl,
  the tests) and MicroPython (the device).
- Imports only other `dispenser.core` modules, `dispenser.compat` (const, ticks arithmetic,
  print_exception) and builtins that do no I/O (micropython, struct, json, hashlib, binascii,
  sys, gc); never machine, time, os, asyncio, select, socket, nor anything of the shell.
- The host imports these modules as they are (`from dispenser.core import logrec`), so the
  device and pillctl share one implementation of each rule.
"""
