"""A chart's `dependencies` as helm resolves and locks them (pure).

Each dependency names where it comes from: nothing (a folder already in `charts/`), `file://PATH`
(a chart folder, relative to the chart), `oci://HOST/PATH` (a registry; the chart is `PATH/NAME`),
or `http(s)://` (a classic repository with an `index.yaml`). A version range is resolved to the
highest version it admits, as helm does. `Chart.lock` is helm's: the exact versions, and a digest
over Chart.yaml's dependencies and the locked ones (sha256 of Go's JSON of both), so `helm dependency
build` accepts a lock we write and we refuse one that Chart.yaml no longer matches.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from toolkit.core.gojson import go_json, helm_metadata
from toolkit.core.semver_range import best_match
from toolkit.core.yamldoc import fast_load_plain
from toolkit.errors import InputError

__all__ = [
    "IndexEntry",
    "Locked",
    "Requirement",
    "archive_name",
    "lock_digest",
    "parse_lock",
    "parse_repo_index",
    "pick_version",
    "render_lock",
    "requirements",
]

LOCAL, FILE, OCI, HTTP = "local", "file", "oci", "http"


@dataclass(frozen=True)
class Requirement:
    """One entry of Chart.yaml's `dependencies`, as helm's `chart.Dependency` (Go JSON form kept)."""

    name: str
    version: str
    repository: str
    go: Mapping[str, Any]

    @property
    def kind(self) -> str:
        repo = self.repository
        if not repo:
            return LOCAL
        if repo.startswith("file://"):
            return FILE
        if repo.startswith("oci://"):
            return OCI
        return HTTP

    def label(self) -> str:
        return f"`{self.name}` ({self.version or 'any version'}, {self.repository or 'charts/'})"


@dataclass(frozen=True)
class Locked:
    """One entry of Chart.lock: the exact version chosen."""

    name: str
    version: str
    repository: str

    def go(self) -> dict[str, str]:
        out = {"name": self.name}
        if self.version:
            out["version"] = self.version
        out["repository"] = self.repository
        return out


def requirements(chart_yaml: bytes, source: str) -> list[Requirement]:
    """Chart.yaml's dependencies; named repositories (`@stable`, `alias:`) and bad ranges refused."""
    try:
        entries = helm_metadata(chart_yaml).get("dependencies") or []
    except InputError as exc:
        raise InputError(f"{source}: {exc.message}", hint=exc.hint) from exc
    found: list[Requirement] = []
    for entry in entries:
        req = Requirement(str(entry["name"]), str(entry.get("version", "")), str(entry["repository"]), entry)
        if not req.name:
            raise InputError(f"{source}: a dependency has no name", hint="give every dependency a `name:`")
        if not req.version:
            raise InputError(f"{source}: dependency `{req.name}` has no version",
                             hint="give a version or a range, e.g. `version: ^1.2.0` or `version: '*'`")
        if req.repository.startswith(("@", "alias:")):
            raise InputError(f"{source}: dependency {req.label()} names a repository added with `helm repo add`",
                             hint="write the repository's URL (oci://, https:// or file://) instead of its name")
        if req.kind == HTTP and not req.repository.startswith(("http://", "https://")):
            raise InputError(f"{source}: dependency {req.label()}: unknown repository scheme",
                             hint="use file://, oci://, https:// or http://, or leave it empty for charts/")
        try:
            best_match(req.version, ())
        except InputError as exc:
            raise InputError(f"{source}: dependency `{req.name}`: {exc.message}", hint=exc.hint) from exc
        found.append(req)
    names = [r.name for r in found]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"{source}: dependency {twice[0]} is listed twice",
                         hint="list each chart once (use `alias:` for a second copy)")
    return found


def pick_version(req: Requirement, versions: Sequence[str], where: str) -> str:
    """The version helm would lock for `req` among `versions`, or an InputError naming what exists."""
    chosen = best_match(req.version, versions)
    if chosen is None:
        shown = ", ".join(sorted(versions)[-8:]) or "none"
        raise InputError(f"dependency {req.label()}: no version matches at {where} (there: {shown})",
                         hint="change the version range in Chart.yaml, or publish a matching version")
    return chosen


def lock_digest(reqs: Sequence[Requirement], locked: Sequence[Locked]) -> str:
    """helm's `HashReq`: sha256 of Go's JSON of [Chart.yaml's dependencies, the locked ones]."""
    data = go_json([[dict(r.go) for r in reqs], [entry.go() for entry in locked]])
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _yaml_scalar(text: str) -> str:
    """A YAML scalar as Go's YAML marshaller writes a string: plain when safe, else double-quoted."""
    plain = text and text.strip() == text and text[0] not in "-?:,[]{}#&*!|>'\"%@`" and \
        ": " not in text and " #" not in text and text.lower() not in {"true", "false", "null", "yes", "no", "~"}
    if plain:
        try:
            float(text)
        except ValueError:
            return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_lock(locked: Sequence[Locked], digest: str, generated: str) -> str:
    """Chart.lock as helm writes it (keys sorted, `generated` an RFC 3339 time)."""
    lines = ["dependencies:"] if locked else ["dependencies: []"]
    for entry in locked:
        lines.append(f"- name: {_yaml_scalar(entry.name)}")
        lines.append(f"  repository: {_yaml_scalar(entry.repository) if entry.repository else chr(34) * 2}")
        if entry.version:
            lines.append(f"  version: {_yaml_scalar(entry.version)}")
    lines += [f"digest: {digest}", f'generated: "{generated}"']
    return "\n".join(lines) + "\n"


def parse_lock(text: str, source: str) -> tuple[str, list[Locked]]:
    """Chart.lock's digest and entries."""
    data = fast_load_plain(text)
    if not isinstance(data, dict) or not isinstance(data.get("dependencies", []), list):
        raise InputError(f"{source}: not a Chart.lock", hint="delete it and run `tke-catalog deps update`")
    entries = [Locked(str(d.get("name", "")), str(d.get("version", "")), str(d.get("repository", "")))
               for d in data.get("dependencies") or [] if isinstance(d, dict)]
    return str(data.get("digest", "")), entries


def archive_name(name: str, version: str) -> str:
    """The file `helm dependency build` writes into charts/."""
    return f"{name}-{version}.tgz"


@dataclass(frozen=True)
class IndexEntry:
    """One chart version of a classic repository's index.yaml."""

    version: str
    url: str
    digest: str


def parse_repo_index(text: str, repository: str) -> dict[str, list[IndexEntry]]:
    """index.yaml's entries by chart name, with each archive URL made absolute against the repository."""
    data = fast_load_plain(text)
    if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
        raise InputError(f"{repository}/index.yaml: not a helm repository index (no `entries:`)",
                         hint="check the repository URL")
    base = repository if repository.endswith("/") else repository + "/"
    out: dict[str, list[IndexEntry]] = {}
    for name, versions in data["entries"].items():
        for item in versions or []:
            urls = item.get("urls") if isinstance(item, dict) else None
            if not urls or not item.get("version"):
                continue  # helm skips entries without a URL
            out.setdefault(str(name), []).append(IndexEntry(str(item["version"]), urljoin(base, str(urls[0])),
                                                            str(item.get("digest") or "")))
    return out


def file_dependency_path(req: Requirement) -> str:
    """The folder a `file://` dependency names, relative to the chart (or absolute)."""
    path = req.repository[len("file://"):]
    return posixpath.normpath(path) if path else "."
