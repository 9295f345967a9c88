"""``pillctl compile FILE -o OUT``: write the device schedule file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from pillctl.outputs import output_option, start_day_option, write_output
from pillctl.schedule import compile_file
from pillctl.schedule.hashing import embedded_hash


@click.command(name="compile")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@output_option("the device schedule (JSON)")
@start_day_option("Compile day, where the UTC offset table begins")
def compile_command(file: Path, output: Path, start: datetime | None) -> None:
    """Compile FILE into the device's schedule format."""
    data = compile_file(file, start.date() if start else None)
    write_output(output, data)
    click.echo(f"{output}: {len(data)} bytes, sha256 {embedded_hash(data)}")
