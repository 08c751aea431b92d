"""Every verb's --help ends with an example, and every example is a command line its verb parses."""

from __future__ import annotations

import shlex

import click
import pytest

from tests.cli.test_completion import VERBS
from toolkit.cli import cli


def commands() -> list[tuple[str, click.Command]]:
    ctx = click.Context(cli)
    found = []
    for verb in VERBS:
        command = cli.get_command(ctx, verb)
        assert command is not None, verb
        found.append((verb, command))
        if isinstance(command, click.Group):
            found += [(f"{verb} {name}", sub) for name, sub in command.commands.items()]
    return found


@pytest.mark.parametrize(("name", "command"), commands(), ids=lambda value: value if isinstance(value, str) else "")
def test_help_has_an_example_that_parses(name: str, command: click.Command) -> None:
    epilog = command.epilog or ""
    assert epilog.startswith("Example: ") and "tke-catalog " in epilog, f"{name}: no example in --help"
    words = shlex.split(epilog.removeprefix("Example: ").split(">")[0])  # without a shell redirection
    start = words.index("tke-catalog") + 1 + len(name.split())
    assert words[start - len(name.split()):start] == name.split(), (name, words)
    ctx = command.make_context(name, [], resilient_parsing=True)
    parser = command.make_parser(ctx)
    parser.parse_args(words[start:])  # an unknown option or a missing option value raises here
