"""`pull`: fetch one chart from an OCI registry by name, version or digest, verify it, unpack it safely.

The network part (`toolkit.adapters.registry.fetch.fetch_chart`) returns verified bytes and files;
`pull` writes the files to `out/<name>/`.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.adapters.files import write_atomic
from toolkit.adapters.registry.client import ChartRegistry
from toolkit.adapters.registry.fetch import PulledChart, fetch_chart
from toolkit.core.oci_reference import OciChartRef, OciReference
from toolkit.errors import InputError

__all__ = ["pull"]


def pull(ref: OciChartRef, *, registry: ChartRegistry, source: OciReference, out: Path) -> PulledChart:
    """Fetch and verify a chart, then write its files to `out/<name>/` (which must not exist yet or be empty)."""
    chart = fetch_chart(ref, registry=registry, source=source)
    folder = out / chart.name
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError(f"{folder}: already exists", hint="remove it or choose another --out folder")
    for relative, data in sorted(chart.files.items()):
        write_atomic(folder / relative, data)
    return PulledChart(chart.name, chart.version, chart.digest, chart.archive, chart.files, folder)
