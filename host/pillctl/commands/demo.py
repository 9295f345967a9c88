"""`pillctl demo`: the whole story on a simulated board, start to finish."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
from rich.console import Console

from pillctl.device import open_device
from pillctl.sim.process import SimProcess

console = Console()


def say(step: str) -> None:
    console.print(f"[bold cyan]demo:[/] {step}")


@click.command()
@click.option(
    "--schedule",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=Path("schedules/bone-health.toml"),
    show_default=True,
    help="Schedule to push to the simulated board.",
)
@click.option("--workdir", type=click.Path(path_type=Path), help="Keep the board's files here.")
def demo(schedule: Path, workdir: Path | None) -> None:
    """Run the dispenser story on a simulated board, with no hardware."""
    with tempfile.TemporaryDirectory(prefix="pillctl-demo-") as tmp:
        base = workdir or Path(tmp)
        say("starting a simulated board: the real firmware in the MicroPython unix port")
        with SimProcess(base / "board") as board:
            say(f"the board's serial port is {board.port}; asking it who it is")
            with open_device(board.port) as device:
                hello = device.hello
            console.print(
                f"  board [bold]{hello['board']}[/], firmware {hello['fw']}, "
                f"device id {hello['id']}, clock {hello['clock']}"
            )
            say(f"schedule to use: {schedule}")
        say("board stopped; done")
