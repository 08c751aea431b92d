"""Go durations, parsed once for the CLI's --timeout and for apply's recovery grace."""

from __future__ import annotations

import pytest

from toolkit.core.duration import duration_seconds


@pytest.mark.parametrize("text, seconds", [("90s", 90.0), ("5m", 300.0), ("1h30m", 5400.0), ("1.5m", 90.0),
                                           ("250ms", 0.25), ("abc", None), ("5", None), ("", None), ("5m x", None)])
def test_durations(text: str, seconds: float | None) -> None:
    assert duration_seconds(text) == seconds
