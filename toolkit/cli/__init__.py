"""The command line: options → settings → adapters → one action → rendered output → exit code.

This package is the only one that imports click. Each verb lives in its own small module and calls
exactly one action; `main` is the one place where errors become messages and exit codes.
"""

from __future__ import annotations

import sys

import click

from toolkit import __version__
from toolkit.cli import apply as _apply
from toolkit.cli import apps as _apps
from toolkit.cli import build as _build
from toolkit.cli import dev as _dev
from toolkit.cli import lint as _lint
from toolkit.cli import plan as _plan
from toolkit.cli import publish as _publish
from toolkit.errors import EXIT_OPERATIONAL, EXIT_USAGE, ToolkitError, exit_code_for

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="tke-catalog")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Build, validate, plan, publish and install a TKEStack-style application catalog."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


for _module in (_lint, _build, _publish, _plan, _apply, _apps, _dev):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and turn every outcome into an exit code; tracebacks only with --debug."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        code = cli.main(args=args, prog_name="tke-catalog", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_OPERATIONAL)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code)
    except ToolkitError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(exit_code_for(exc))
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a message, not a traceback
        if debug:
            raise
        click.echo(f"error: unexpected {type(exc).__name__}: {exc}\n  hint: re-run with --debug and report it", err=True)
        sys.exit(exit_code_for(exc))
    sys.exit(code if isinstance(code, int) else 0)
