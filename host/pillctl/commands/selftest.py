"""`pillctl selftest`: walk a person through the board, step by step, each with a pass or
fail; print the table and record a SELFTEST record on the device (docs/hardware.md)."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.table import Table

from pillctl.commands.common import connect, json_option, port_option, print_json
from pillctl.device import Device
from pillctl.errors import PillctlError
from pillctl.selftest import FAIL, PASS, STEPS, Result, Step, judge, masks

DEFAULT_WAIT_S = 20
REPLY_MARGIN_S = 15  # a servo sweep and a busy board on top of the wait


def run_step(device: Device, step: Step, wait_s: int, say) -> Result:
    args: dict[str, Any] = dict(step.args)
    if step.person:
        args["wait_ms"] = wait_s * 1000

    def on_event(event: dict[str, Any]) -> None:
        if event.get("kind") == "waiting":
            say(f"      {step.name}: waiting {wait_s} s for the button")

    reply = device.request("selftest", args, timeout=wait_s + REPLY_MARGIN_S, on_event=on_event)
    return judge(step, reply, wait_s)


def results_table(results: list[Result]) -> Table:
    table = Table(title="self-test", title_justify="left")
    for column in ("step", "result", "detail"):
        table.add_column(column)
    for result in results:
        style = "green" if result.outcome == PASS else "bold red" if result.outcome == FAIL else ""
        table.add_row(result.step, f"[{style}]{result.outcome}[/]" if style else result.outcome,
                      result.detail)  # fmt: skip
    return table


@click.command()
@click.option(
    "--wait",
    "wait_s",
    type=click.IntRange(1, 60),
    default=DEFAULT_WAIT_S,
    show_default=True,
    help="Seconds each step waits for you at the device.",
)
@port_option
@json_option
def selftest(wait_s: int, port: str, as_json: bool) -> None:
    """Check the button, LEDs, buzzer, servos, clock and flash, one step at a time.

    Each step says what to do at the dispenser; the button answers (a step you do not
    confirm in time fails). Servos move only after a press. Nothing is dispensed from
    the schedule. The result goes into the device's log and `pillctl status`."""
    say = (lambda _text: None) if as_json else click.echo
    results = []
    with connect(port) as device:
        for number, step in enumerate(STEPS, 1):
            say(f"[{number}/{len(STEPS)}] {step.instruction}")
            result = run_step(device, step, wait_s, say)
            results.append(result)
            say(f"      {result.step}: {result.outcome}")
        passed, failed = masks(results)
        device.request("selftest", {"step": "done", "passed": passed, "failed": failed})
    failures = [r.step for r in results if r.outcome == FAIL]
    if as_json:
        print_json({"results": [r.as_dict() for r in results], "failed": failures})
    else:
        Console(highlight=False).print(results_table(results))
    if failures:
        raise PillctlError(
            f"self-test: {len(failures)} of {len(results)} steps failed ({', '.join(failures)})"
        )
    say(f"self-test passed ({sum(r.outcome == PASS for r in results)} steps; "
        f"{sum(r.outcome != PASS for r in results)} skipped)")  # fmt: skip
