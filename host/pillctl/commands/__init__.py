"""Registry of pillctl commands; each module defines one click command (or group)."""

from __future__ import annotations

import click

from pillctl.commands import sim, status

COMMANDS: list[click.Command] = [sim.sim, status.status]
