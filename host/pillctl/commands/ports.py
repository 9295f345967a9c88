"""`pillctl ports`: the serial ports a dispenser may be on, and which run our firmware."""

from __future__ import annotations

import click

from pillctl.commands.common import json_option, print_json
from pillctl.device import probe_hello
from pillctl.ports import ENV_VAR, all_candidates

PROBE_TIMEOUT_S = 1.0  # a board of ours answers hello in milliseconds


@click.command()
@json_option
def ports(as_json: bool) -> None:
    """List USB boards (VID 0x2E8A) and $PILLCTL_PORT, saying which run the dispenser firmware."""
    found = []
    for port, source in all_candidates():
        hello = probe_hello(port, PROBE_TIMEOUT_S)
        found.append(
            {"port": port, "source": source, "dispenser": hello is not None, "hello": hello}
        )
    if as_json:
        print_json(found)
        return
    if not found:
        click.echo(
            f"no boards found: plug a Pico in over USB, or set ${ENV_VAR} "
            "(for a simulated board, the port `pillctl sim` printed)"
        )
        return
    for entry in found:
        hello = entry["hello"]
        what = (
            f"dispenser firmware {hello.get('fw')} on {hello.get('board')}, id {hello.get('id')}"
            if hello
            else "no dispenser firmware answers (blank, busy, or another program)"
        )
        click.echo(f"{entry['port']} ({entry['source']}): {what}")
