"""Registry of pillctl commands; each module defines one click command (or group)."""

from __future__ import annotations

import click

from pillctl.commands import (
    demo,
    logs,
    maintenance,
    monitor,
    name,
    ports,
    push,
    refill,
    report,
    selftest,
    sim,
    status,
    time,
)
from pillctl.commands.calibrate import calibrate
from pillctl.commands.compile import compile_command
from pillctl.commands.export_ics import export_ics
from pillctl.commands.flash import flash_command
from pillctl.commands.network import mqtt_group, wifi_group
from pillctl.commands.show import show
from pillctl.commands.validate import validate

COMMANDS: list[click.Command] = [
    validate,
    show,
    compile_command,
    export_ics,
    status.status,
    push.push,
    refill.refill,
    logs.logs,
    monitor.monitor,
    maintenance.maintenance,
    flash_command,
    ports.ports,
    time.time_group,
    sim.sim,
    demo.demo,
    report.report,
    name.name,
    wifi_group,
    mqtt_group,
    selftest.selftest,
    calibrate,
]
