"""The command line: options → settings → adapters → one action → rendered output → exit code.

This package is the only one that imports click. Each verb lives in its own small module and calls
exactly one action; `main` is the one place where errors become messages and exit codes.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
from typing import TYPE_CHECKING, Any

import click

from toolkit import __version__
from toolkit.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OPERATIONAL,
    EXIT_USAGE,
    Interrupted,
    ToolkitError,
    exit_code_for,
)

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

__all__ = ["cli", "main"]


# verb -> (module of toolkit.cli that defines it, its line in `tke-catalog --help`). Modules are imported
# only when their verb runs, and the top-level help reads this table instead of importing every verb.
_VERBS = {
    "lint": ("lint", "Lint charts: our rules, helm lint, every rendering."),
    "build": ("build", "Package charts into reproducible archives."),
    "publish": ("publish", "Push charts to an OCI registry; write catalog.lock."),
    "pull": ("pull", "Fetch one chart, verify its digests, unpack it."),
    "deps": ("deps", "Fetch charts' dependencies, write Chart.lock."),
    "validate": ("plan", "Check a Cluster file (every error at once)."),
    "plan": ("plan", "Resolve a Cluster's apps into a release plan."),
    "apply": ("apply", "Converge a cluster to its Cluster's plan."),
    "diff": ("render", "Show what an apply would change."),
    "template": ("render", "Print the manifests the releases render to."),
    "status": ("releases", "List what the Cluster installed."),
    "history": ("releases", "List the revisions of one release."),
    "rollback": ("releases", "Roll one release back to a revision."),
    "uninstall": ("releases", "Uninstall everything the Cluster installed."),
    "apps": ("apps", "Edit a Cluster file's app list in place."),
    "matrix": ("matrix", "Which chart version serves which Kubernetes minor."),
    "images": ("images", "List every container image the charts run."),
    "mirror": ("mirror", "Copy images and charts into your registry."),
    "scheduler-config": ("scheduler", "Print the scheduler config the apps' extenders need."),
    "controller": ("controller", "Keep every Cluster object's apps converged."),
}


class _ToolkitGroup(click.Group):
    """Lazy verbs, and the one place where errors become messages and exit codes (`toolkit.errors`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_VERBS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _VERBS.get(cmd_name)
        if entry is None:
            return None
        commands = importlib.import_module(f"toolkit.cli.{entry[0]}").COMMANDS
        command: click.Command | None = next((c for c in commands if c.name == cmd_name), None)
        if command is not None:
            command.short_help = entry[1]
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The verbs and their lines from `_VERBS`: the top-level help imports no verb module."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, line) for name, (_, line) in _VERBS.items()])

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Verb names for shell completion without importing every verb's module (click's default
        would, for each verb's help line: a TAB then costs a second); then the group's own options."""
        from click.shell_completion import CompletionItem

        verbs = [CompletionItem(name) for name in self.list_commands(ctx) if name.startswith(incomplete)]
        return verbs + click.Command.shell_complete(self, ctx, incomplete)

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug"))
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except ToolkitError as exc:
            if debug:
                raise
            if not exc.silent:
                from toolkit.cli._style import painted_lines

                click.echo(painted_lines(f"error: {exc}", err=True), err=True)
            _failure_document(ctx, exc)
            raise click.exceptions.Exit(exit_code_for(exc)) from None
        except BrokenPipeError:
            # the reader went away (`tke-catalog images | head`): stop quietly, as Unix tools do
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise click.exceptions.Exit(0) from None
        except KeyboardInterrupt as exc:
            if debug:
                raise
            click.echo(f"\nerror: {Interrupted()}", err=True)
            _failure_document(ctx, Interrupted())
            raise click.exceptions.Exit(exit_code_for(exc)) from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence: a message, not a traceback
            if debug:
                raise
            click.echo(f"error: unexpected {type(exc).__name__}: {exc}\n"
                       "  hint: re-run with --debug and report it", err=True)
            _failure_document(ctx, exc)
            raise click.exceptions.Exit(EXIT_OPERATIONAL) from None

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """Run the command and exit with the code `toolkit.errors` defines: click's own usage errors
        become 64 (not click's 2, which `--detailed-exitcode` reserves for "changes pending")."""
        try:
            returned = super().main(_debug_first(sys.argv[1:] if args is None else list(args)), prog_name,
                                    complete_var, standalone_mode=False, **extra)
            code = returned if isinstance(returned, int) else EXIT_OK
        except click.UsageError as exc:
            exc.show()
            code = EXIT_USAGE
        except click.exceptions.Abort:
            click.echo(f"error: {Interrupted()}", err=True)
            code = EXIT_INTERRUPTED
        except click.ClickException as exc:
            exc.show()
            code = exc.exit_code
        if not standalone_mode:
            return code
        if code == EXIT_INTERRUPTED and any(t.is_alive() and not t.daemon for t in threading.enumerate()
                                            if t is not threading.main_thread()):
            # a second Ctrl-C: stop at once, not after the work in flight (apply recovers what it leaves)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        sys.exit(code)


def _failure_document(ctx: click.Context, error: BaseException) -> None:
    """Under `--output json`, a verb that fails before printing its document still prints one: the
    envelope with `ok: false` and the error (message, hint, exit code), and nothing else on stdout."""
    if ctx.meta.get("tke-catalog.output") != "json" or ctx.meta.get("tke-catalog.printed"):
        return
    import json

    from toolkit.core.envelope import envelope

    message = error.message if isinstance(error, ToolkitError) else f"unexpected {type(error).__name__}: {error}"
    hint = error.hint if isinstance(error, ToolkitError) else "re-run with --debug and report it"
    findings = [f.as_dict() for f in getattr(error, "findings", ()) or ()]
    verb = str(ctx.meta.get("tke-catalog.verb") or ctx.invoked_subcommand or "")
    with contextlib.suppress(OSError):
        click.echo(json.dumps(envelope(verb, {"ok": False, "findings": findings}, error={
            "message": message, "hint": hint, "exitCode": exit_code_for(error)}), indent=2))


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from toolkit.adapters.helm import detect_version
    from toolkit.adapters.settings import load_settings

    click.echo(f"tke-catalog {__version__}")
    try:
        settings = load_settings()
        helm = detect_version(settings.helm, settings.helm_source)
        click.echo(f"helm {helm} ({settings.helm}, from {settings.helm_source or 'PATH'})")
    except ToolkitError as exc:
        click.echo(f"helm: {exc.message}")
    ctx.exit(0)


def _debug_first(args: list[str]) -> list[str]:
    """`--debug` works anywhere on the line (`tke-catalog plan x.yaml --debug`), as kubectl's global
    flags do: it is moved before the verb; after `--` it is an argument like any other."""
    end = args.index("--") if "--" in args else len(args)
    if "--debug" not in args[:end]:
        return args
    return ["--debug", *(a for a in args[:end] if a != "--debug"), *args[end:]]


@click.group(cls=_ToolkitGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
              help="Show the version, and the helm it drives (which one, from where), then exit.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def cli(debug: bool) -> None:
    """Build, validate, plan, publish and install a TKEStack-style application catalog."""


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; `_ToolkitGroup.main` maps every outcome to its exit code (the adapters that bring
    in chatty libraries quiet the root logger: `toolkit.adapters.quiet_logs`)."""
    cli.main(args=argv, prog_name="tke-catalog")
