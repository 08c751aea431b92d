"""Placeholder commands for verbs that are planned but not built: they say so and exit 2."""

from __future__ import annotations

import click

from toolkit.errors import UsageError


def not_implemented(name: str, summary: str) -> click.Command:
    """A command that lists itself in --help but refuses to pretend it works."""

    @click.command(name=name, help=summary, short_help=summary,
                   context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    def _command() -> None:
        raise UsageError(f"`tke-catalog {name}` is not implemented yet", hint="see the README for the verbs that work today")

    return _command
