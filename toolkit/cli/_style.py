"""Colour on terminals, through click's styling: never when the stream is not a terminal, when
`NO_COLOR` is set (no-color.org) or when `TERM=dumb`. Text is coloured by what a line says, so the
pure renderers stay plain."""

from __future__ import annotations

import sys

import click

from toolkit.adapters.settings import colour_wanted

__all__ = ["colour_on", "painted_lines"]

_BY_START = {"+ ": "green", "~ ": "yellow", "- ": "red", "! ": "magenta"}
_BY_WORD = {"error:": "red", "warning:": "yellow", "failed": "red", "FAILED": "red", "skipped": "yellow",
            "installed": "green", "upgraded": "green", "uninstalled": "cyan", "pushed": "green"}


def _stream(err: bool) -> object:
    return sys.stderr if err else sys.stdout


def colour_on(err: bool = False) -> bool:
    """Whether to colour what goes to stdout (or stderr with `err`)."""
    if not colour_wanted():
        return False
    return bool(getattr(_stream(err), "isatty", lambda: False)())


def _paint(line: str) -> str:
    for start, colour in _BY_START.items():
        if line.startswith(start):
            return click.style(line, fg=colour)
    first = line.split(maxsplit=1)[0] if line.strip() else ""
    for word, colour in _BY_WORD.items():
        if first == word or f": {word}" in line[:120] and word.endswith(":"):
            return click.style(line, fg=colour, bold=word == "error:")
    return line


def painted_lines(text: str, *, err: bool = False) -> str:
    """`text` with each line coloured by what it says, when colour is on; else `text` unchanged."""
    if not colour_on(err):
        return text
    return "\n".join(_paint(line) for line in text.split("\n"))
