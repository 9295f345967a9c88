"""Command table of pillctl. Each command lives in its own module under commands/."""

from __future__ import annotations

import sys

import click

from pillctl import __version__
from pillctl.commands import COMMANDS
from pillctl.errors import PillctlError


class PillctlGroup(click.Group):
    """Turns every expected failure into one line and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PillctlError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"pillctl: {exc}", err=True)
            sys.exit(1)


@click.group(cls=PillctlGroup)
@click.version_option(__version__, prog_name="pillctl")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Validate, compile and push supplement schedules; talk to the dispenser."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


for command in COMMANDS:
    main.add_command(command)
