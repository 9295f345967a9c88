"""Command table of pillctl. Each command lives in its own module under commands/."""

from __future__ import annotations

import sys

import click

from pillctl import __version__
from pillctl.commands import COMMANDS
from pillctl.errors import PillctlError

# Global flags a user may put anywhere on the line, e.g. `pillctl status --debug`.
GLOBAL_FLAGS = ("--debug", "--no-restart")
USAGE_EXIT = 2  # click's (and POSIX tools') code for a usage mistake; errors exit 1


def hoist_global_flags(args: list[str]) -> list[str]:
    """Move the global flags before the subcommand, where click looks for them (never past
    a `--`, after which everything is an argument)."""
    end = args.index("--") if "--" in args else len(args)
    flags = [a for a in args[:end] if a in GLOBAL_FLAGS]
    rest = [a for a in args[:end] if a not in GLOBAL_FLAGS]
    return flags + rest + args[end:]


def usage_line(exc: click.UsageError, args: list[str] | None = None) -> str:
    """click's three-line usage block as one line: which command, what is wrong, where to
    read more."""
    ctx = exc.ctx
    where = ctx.command_path if ctx is not None else "pillctl"
    hint = f" (see `{where} --help`)" if ctx is not None else ""
    fixed = _option_moved_after_command(exc, args or [])
    if fixed is not None:
        option = getattr(exc, "option_name", "")
        return f"pillctl: {option} goes after the command's name: `{fixed}`"
    command = where.removeprefix("pillctl").strip() or "usage"
    return f"pillctl: {command}: {exc.format_message()}{hint}"


def _option_moved_after_command(exc: click.UsageError, args: list[str]) -> str | None:
    """`pillctl status --port X` for `pillctl --port X status`: the line with an option the
    command takes moved after the command (only the global flags go before it); None when
    that is not the mistake."""
    ctx = exc.ctx
    if not isinstance(exc, click.NoSuchOption) or ctx is None or ctx.parent is not None:
        return None
    group = ctx.command
    option_name = exc.option_name
    at = next((i for i, a in enumerate(args) if a.split("=")[0] == option_name), None)
    if not isinstance(group, click.Group) or at is None:
        return None
    command: click.Command = group
    last = at  # the position of the (sub)command's name: `wifi set` is two words
    while isinstance(command, click.Group):
        found = next((i for i in range(last + 1, len(args)) if args[i] in command.commands), None)
        if found is None:
            return None
        command, last = command.commands[args[found]], found
    param = next((p for p in command.params if option_name in p.opts), None)
    if param is None:
        return None
    width = 1 if getattr(param, "is_flag", False) or "=" in args[at] else 2
    option = args[at : at + width]
    rest = args[:at] + args[at + width : last + 1] + option + args[last + 1 :]
    return " ".join(["pillctl", *rest])


class PillctlGroup(click.Group):
    """Turns every expected failure, usage mistakes included, into one line."""

    def main(self, args=None, prog_name=None, **extra):  # type: ignore[override]
        args = hoist_global_flags(list(sys.argv[1:] if args is None else args))
        try:
            code = super().main(args, prog_name or "pillctl", standalone_mode=False, **extra)
        except click.UsageError as exc:
            click.echo(usage_line(exc, args), err=True)
            sys.exit(USAGE_EXIT)
        except click.ClickException as exc:
            click.echo(f"pillctl: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("pillctl: stopped", err=True)
            sys.exit(1)
        # --help and --version end in click's Exit, which non-standalone mode returns.
        sys.exit(code if isinstance(code, int) else 0)

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
@click.option("--debug", is_flag=True, help="Show tracebacks for errors (anywhere on the line).")
@click.option(
    "--no-restart",
    is_flag=True,
    help="Leave a board found in its maintenance REPL there, instead of restarting its app.",
)
@click.pass_context
def main(ctx: click.Context, debug: bool, no_restart: bool) -> None:
    """Validate, compile and push supplement schedules; talk to the dispenser."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["no_restart"] = no_restart


for command in COMMANDS:
    main.add_command(command)
