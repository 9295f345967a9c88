"""Registry of pillctl commands; each module defines one click command (or group)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
