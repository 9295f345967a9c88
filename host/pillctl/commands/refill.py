"""`pillctl refill COMPARTMENT COUNT`: record that a hopper was filled."""

from __future__ import annotations

import click

from pillctl.commands.common import connect, port_option, timeout_option
from pillctl.errors import PillctlError


@click.command()
@click.argument("compartment")
@click.argument("count", type=click.IntRange(0, 1000))
@port_option
@timeout_option
def refill(compartment: str, count: int, port: str, timeout: float) -> None:
    """Set COMPARTMENT's pill count to COUNT (id from the schedule, or hopper 0-2)."""
    with connect(port, timeout) as device:
        status = device.request("status")
        compartments = status.get("compartments") or []
        hopper = next((c["hopper"] for c in compartments if c["id"] == compartment), None)
        if hopper is None and compartment in ("0", "1", "2"):
            hopper = int(compartment)
        if hopper is None:
            known = ", ".join(c["id"] for c in compartments) or "none: push a schedule first"
            raise PillctlError(f"no compartment {compartment!r} on this dispenser (known: {known})")
        device.request("refill", {"hopper": hopper, "count": count})
    click.echo(f"compartment {compartment} (hopper {hopper}) now holds {count} pills")
