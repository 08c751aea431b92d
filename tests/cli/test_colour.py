"""Colour only on a terminal, and never with NO_COLOR or TERM=dumb; the text is the same either way."""

from __future__ import annotations

import io

import click
import pytest

from toolkit.cli import _style


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # pytest puts its own sys.stdout back between fixtures and the test: patch the stream lookup instead
    monkeypatch.setattr(_style, "_stream", lambda err: Terminal())
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


TABLE = "+  0     cilium   kube-system\n~  1     coredns  kube-system\nplain line"


def test_a_terminal_gets_colour_by_what_each_line_says(terminal: None) -> None:
    painted = _style.painted_lines(TABLE)
    assert painted != TABLE and "\x1b[32m+  0     cilium" in painted and "\x1b[33m~  1" in painted
    assert click.unstyle(painted) == TABLE


@pytest.mark.parametrize(("variable", "value"), [("NO_COLOR", "1"), ("TERM", "dumb")])
def test_no_colour_when_the_user_says_so(terminal: None, monkeypatch: pytest.MonkeyPatch, variable: str,
                                         value: str) -> None:
    monkeypatch.setenv(variable, value)
    assert _style.painted_lines(TABLE) == TABLE


def test_no_colour_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_style, "_stream", lambda err: io.StringIO())
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert _style.painted_lines(TABLE) == TABLE
