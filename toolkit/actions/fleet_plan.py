"""Plan many Clusters in one run (`tke-catalog plan DIR|FILE...`): spread over processes, streamed.

The Clusters are independent, so they are planned in chunks by a pool of worker processes (forked
after the catalog, schemas and chart source are loaded once, so each worker starts warm). Each worker
renders its Clusters' documents itself and hands back text (or writes the per-Cluster files itself),
and the parent writes them in input order as chunks finish: memory stays bounded by the chunks in
flight, not by the fleet. A Cluster that cannot be planned is a document with `ok: false` and its
findings; the others are planned all the same.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.errors import InputError

__all__ = ["FleetSummary", "cluster_files", "plan_fleet"]

CHUNK = 32  # Clusters per task: large enough to amortise the hand-over, small enough to stream
_STATE: dict[str, Any] = {}  # the worker's catalog, schemas and chart source (inherited through fork)


@dataclass(frozen=True)
class FleetSummary:
    """How the fleet went: Clusters planned and refused, releases, and changes pending."""

    clusters: int = 0
    refused: int = 0
    releases: int = 0
    changes: int = 0

    def add(self, other: FleetSummary) -> FleetSummary:
        return FleetSummary(self.clusters + other.clusters, self.refused + other.refused,
                            self.releases + other.releases, self.changes + other.changes)

    def as_dict(self) -> dict[str, int]:
        return {"clusters": self.clusters, "refused": self.refused, "releases": self.releases,
                "changes": self.changes}


def cluster_files(paths: Sequence[Path]) -> list[Path]:
    """The Cluster files named: files as given, folders by their `*.yaml`, `*.yml` and `*.json` files
    (sorted, not recursive). A path that does not exist, or a folder without one, is an InputError."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml", ".json"))
            if not inside:
                raise InputError(f"{path}: no Cluster files (*.yaml, *.yml, *.json) in this folder",
                                 hint="name Cluster files, or a folder holding them")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder", hint="check the path")
    return found


def _writable(out_dir: Path) -> None:
    """Make `out_dir` and prove it takes files before any worker starts (else an InputError, not a
    failure in every worker)."""
    from toolkit.adapters.files import write_atomic

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".tke-catalog-probe"
        write_atomic(probe, b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(f"--out-dir {out_dir}: cannot write plans there ({exc.strerror or exc})",
                         hint="name a folder you may write, or leave --out-dir out to print the plans") from None


def _setup(root: Path, charts: Any) -> None:
    from toolkit.adapters.project import load_catalog

    _STATE.update(root=root, catalog=load_catalog(root), charts=charts)


def _plan_one(path: Path) -> tuple[dict[str, Any], FleetSummary]:
    """One Cluster's document (the same as `plan -o json` prints, as one line) and its counts."""
    from toolkit.actions.validate import parse_cluster_text
    from toolkit.adapters.files import read_text
    from toolkit.core.envelope import envelope
    from toolkit.core.findings import has_errors
    from toolkit.core.plan import resolve_plan
    from toolkit.core.plan_render import plan_as_dict
    from toolkit.errors import PlanRejected, ToolkitError

    source = str(path)
    try:
        parsed = parse_cluster_text(read_text(path), source, _STATE["root"])
        if parsed.cluster is None or has_errors(parsed.findings):
            raise PlanRejected(f"{source}: cannot plan", findings=parsed.findings)
        plan = resolve_plan(parsed.cluster, _STATE["catalog"], _STATE["charts"])
    except PlanRejected as exc:
        findings = [f.as_dict() for f in exc.findings]
        return (envelope("plan", {"ok": False, "file": source, "findings": findings}),
                FleetSummary(clusters=1, refused=1))
    except ToolkitError as exc:
        return (envelope("plan", {"ok": False, "file": source}, error={"message": exc.message, "hint": exc.hint}),
                FleetSummary(clusters=1, refused=1))
    document = envelope("plan", {"file": source, **plan_as_dict(plan, findings=(*parsed.findings, *plan.findings))})
    changes = sum(1 for r in plan.releases if r.action.value != "noop")
    return document, FleetSummary(clusters=1, releases=len(plan.releases), changes=changes)


def _text_line(path: Path, document: dict[str, Any], counts: FleetSummary) -> str:
    if counts.refused:
        first = (document.get("findings") or [{}])[0].get("message") or (document.get("error") or {}).get("message", "")
        errors = sum(1 for f in document.get("findings") or [] if f.get("severity") == "error")
        return f"refused  {path}: {errors or 1} error(s), first: {first}"
    return f"planned  {document.get('cluster')}: {counts.releases} release(s), {counts.changes} change(s)"


def _plan_chunk(job: tuple[list[Path], str, str | None]) -> tuple[list[str], FleetSummary, list[tuple[str, str]]]:
    """Plan a chunk: its lines (`json`: one document per Cluster; `text`: one summary line per Cluster;
    with an output folder, the documents go to files there) and the counts."""
    paths, output, out_dir = job
    lines: list[str] = []
    names: list[tuple[str, str]] = []
    summary = FleetSummary()
    for path in paths:
        document, counts = _plan_one(path)
        summary = summary.add(counts)
        names.append((str(document.get("cluster") or path.stem), str(path)))
        if out_dir is not None:
            from toolkit.adapters.files import write_atomic

            target = Path(out_dir) / f"{document.get('cluster') or path.stem}.plan.json"
            write_atomic(target, (json.dumps(document, indent=2, default=str) + "\n").encode(), mode=0o600)
        if output == "json" and out_dir is None:
            lines.append(json.dumps(document, separators=(",", ":"), default=str))
        elif output != "json":
            lines.append(_text_line(path, document, counts))
    return lines, summary, names


def plan_fleet(paths: Sequence[Path], *, root: Path, charts: Any, jobs: int | None = None, output: str = "json",
               out_dir: Path | None = None, emit: Callable[[str], None]) -> FleetSummary:
    """Plan every Cluster in `paths` with `jobs` processes (default: every core); `emit` receives each
    Cluster's line (`output` json: its document on one line; text: a summary), in input order. With
    `out_dir` each document is written to `OUT/<cluster>.plan.json` instead of emitted as JSON."""
    files = cluster_files(paths)
    if out_dir is not None:
        _writable(out_dir)
    _setup(root, charts)
    workers = max(1, min(jobs or os.cpu_count() or 1, (len(files) + CHUNK - 1) // CHUNK))
    chunks = [(files[i:i + CHUNK], output, str(out_dir) if out_dir else None) for i in range(0, len(files), CHUNK)]
    summary = FleetSummary()
    seen: dict[str, str] = {}
    twice: list[str] = []
    for lines, counts, names in _results(chunks, workers):
        summary = summary.add(counts)
        for line in lines:
            emit(line)
        for name, path in names:
            if name in seen:
                twice.append(f"{name} ({seen[name]}, {path})")
            seen.setdefault(name, path)
    if twice:
        where = f"; {out_dir}/<cluster>.plan.json holds the last of each" if out_dir is not None else ""
        raise InputError(f"Clusters named twice: {', '.join(twice[:5])}{' ...' if len(twice) > 5 else ''}{where}",
                         hint="give every Cluster its own metadata.name")
    return summary


def _results(chunks: list[tuple[list[Path], str, str | None]],
             workers: int) -> Iterator[tuple[list[str], FleetSummary, list[tuple[str, str]]]]:
    if workers == 1:
        yield from map(_plan_chunk, chunks)
        return
    # fork: the workers inherit the loaded catalog and chart source; imap keeps the input order and
    # hands chunks out as workers free up
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_plan_chunk, chunks)
