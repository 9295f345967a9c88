"""`pillctl refill COMPARTMENT COUNT`: record that a hopper was filled."""

from __future__ import annotations

import click

from pillctl.commands.common import connect, port_option, timeout_option
from pillctl.errors import PillctlError

MAX_COUNT = 1000  # the protocol's bound; the compartment's capacity is the real one


def parse_count(text: str) -> int:
    """COUNT as a whole number of pills; `-5` or `ten` get one line saying what is wanted."""
    try:
        count = int(text)
    except ValueError:
        count = -1
    if not 0 <= count <= MAX_COUNT:
        wanted = "a whole number of pills (0 or more)"
        raise PillctlError(f"refill: COUNT must be {wanted}, not {text!r}")
    return count


def find_compartment(compartments: list[dict], name: str) -> dict:
    """The device's compartment `name` (its id, or hopper 0-2)."""
    for comp in compartments:
        if comp["id"] == name or str(comp["hopper"]) == name:
            return comp
    known = ", ".join(c["id"] for c in compartments) or "none: push a schedule first"
    raise PillctlError(f"no compartment {name!r} on this dispenser (known: {known})")


# ignore_unknown_options: `refill d3 -5` reaches parse_count as a number, not as an option.
@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("compartment")
@click.argument("count")
@port_option
@timeout_option
def refill(compartment: str, count: str, port: str, timeout: float) -> None:
    """Set COMPARTMENT's pill count to COUNT (id from the schedule, or hopper 0-2)."""
    pills = parse_count(count)
    with connect(port, timeout) as device:
        status = device.request("status")
        comp = find_compartment(status.get("compartments") or [], compartment)
        capacity = comp.get("cap")
        if capacity is not None and pills > capacity:
            raise PillctlError(
                f"compartment {comp['id']} holds at most {capacity} pills, not {pills}: count again"
            )
        device.request("refill", {"hopper": comp["hopper"], "count": pills})
    click.echo(f"compartment {comp['id']} (hopper {comp['hopper']}) now holds {pills} pills")
