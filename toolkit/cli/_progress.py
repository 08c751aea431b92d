"""Progress output for long verbs: a live block of per-release status lines on a terminal, plain
timestamped lines elsewhere (CI logs), always on stderr when stdout carries JSON."""

from __future__ import annotations

import datetime
import threading

import click

__all__ = ["Progress"]


class Progress:
    """Callable progress sink. Messages of the form `release: status` update that release's line."""

    def __init__(self, *, live: bool, err: bool) -> None:
        self.live, self.err = live, err
        self._lines: dict[str, str] = {}
        self._drawn = 0
        self._lock = threading.Lock()

    def __call__(self, message: str) -> None:
        with self._lock:
            key, sep, status = message.partition(": ")
            if not self.live or not sep or " " in key:
                self._plain(message)
                return
            self._lines[key] = status
            self._redraw()

    def _plain(self, message: str) -> None:
        if self.live:
            self._erase()
        stamp = datetime.datetime.now().strftime("%H:%M:%S")
        click.echo(f"[{stamp}] {message}", err=self.err)
        if self.live:
            self._redraw()

    def _erase(self) -> None:
        if self._drawn:
            click.echo(f"\033[{self._drawn}F\033[J", nl=False, err=self.err)
            self._drawn = 0

    def _redraw(self) -> None:
        self._erase()
        width = max((len(k) for k in self._lines), default=0)
        for key, status in self._lines.items():
            click.echo(f"  {key:<{width}}  {status}", err=self.err)
        self._drawn = len(self._lines)

    def finish(self) -> None:
        """Take the live block off the screen: the verb's final list says the same once (not twice)."""
        with self._lock:
            if self.live:
                self._erase()
            self._drawn = 0
