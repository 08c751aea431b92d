#!/usr/bin/env python3
"""Fetch the API of every supported Kubernetes minor into schemas/kubernetes/1.N.json.gz.

Each is the release's own OpenAPI document (`api/openapi-spec/swagger.json` in the `k8s.io/kubernetes`
module zip the Go module proxy serves, generated from that release's Go types), compacted by
`toolkit.core.api_spec.compact_swagger` and gzipped without a timestamp, so a re-fetch of the same
releases gives the same bytes. Run it when `KUBERNETES_RELEASES` changes; the files are committed so
that `lint --kube-version` and the version-matrix tests need no network.

Usage: scripts/fetch-api-specs.py [MINOR...]      (GOPROXY's first URL, default https://proxy.golang.org)
"""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit.core.api_spec import compact_swagger  # noqa: E402
from toolkit.core.matrix import KUBERNETES_RELEASES  # noqa: E402


def proxy() -> str:
    for entry in os.environ.get("GOPROXY", "https://proxy.golang.org").replace("|", ",").split(","):
        if entry.startswith(("https://", "http://")):
            return entry.rstrip("/")
    return "https://proxy.golang.org"


def fetch(release: str) -> bytes:
    url = f"{proxy()}/k8s.io/kubernetes/@v/v{release}.zip"
    with urllib.request.urlopen(url, timeout=300) as response:  # TLS verified by default
        archive = zipfile.ZipFile(io.BytesIO(response.read()))
    name = f"k8s.io/kubernetes@v{release}/api/openapi-spec/swagger.json"
    compact = compact_swagger(json.loads(archive.read(name)), release)
    return gzip.compress(json.dumps(compact, sort_keys=True, separators=(",", ":")).encode(), mtime=0)


def main(argv: list[str]) -> int:
    minors = [int(a.split(".")[-1]) for a in argv] or sorted(KUBERNETES_RELEASES)
    out = ROOT / "schemas" / "kubernetes"
    out.mkdir(parents=True, exist_ok=True)
    for minor in minors:
        release = KUBERNETES_RELEASES[minor]
        data = fetch(release)
        (out / f"1.{minor}.json.gz").write_bytes(data)
        print(f"1.{minor}: Kubernetes {release}, {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
