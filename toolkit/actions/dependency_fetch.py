"""The network side of `deps`: OCI registries through the registry client (digests verified) and
classic chart repositories over HTTP(S), with this run's TLS options and credentials."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from toolkit.actions.registry_access import RegistryAccess
from toolkit.adapters.registry.auth import basic_authorization
from toolkit.adapters.registry.client import RegistryClient
from toolkit.adapters.registry.fetch import fetch_chart
from toolkit.adapters.registry.transport import Urllib3Transport
from toolkit.core.archive_reader import MAX_CHART_BYTES
from toolkit.core.oci_reference import OciChartRef, OciReference
from toolkit.errors import RegistryError

__all__ = ["NetworkFetcher"]

_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass
class NetworkFetcher:
    """Fetches dependencies as `helm dependency update` would, never printing credentials."""

    access: RegistryAccess
    _clients: dict[str, tuple[OciReference, RegistryClient]] = field(default_factory=dict)
    _transport: Urllib3Transport | None = None

    def _client(self, repository: str) -> tuple[OciReference, RegistryClient]:
        if repository not in self._clients:
            self._clients[repository] = self.access.connect(repository)
        return self._clients[repository]

    def oci_versions(self, repository: str, name: str) -> list[str]:
        source, client = self._client(repository)
        return client.list_tags(source.repository(name))

    def oci_archive(self, repository: str, name: str, version: str) -> bytes:
        source, client = self._client(repository)
        return fetch_chart(OciChartRef(name, version=version), registry=client, source=source).archive

    def http_get(self, url: str) -> bytes:
        if self._transport is None:
            self._transport = Urllib3Transport(ca_file=self.access.ca_file,
                                               insecure_skip_tls_verify=self.access.insecure_skip_tls_verify)
        for _ in range(5):
            host = urlsplit(url).netloc
            headers = {"User-Agent": "tke-catalog"}
            credentials = self.access.credentials(host)
            if credentials is not None:
                headers["Authorization"] = basic_authorization(credentials)
            response = self._transport.request("GET", url, headers=headers)
            if response.status in _REDIRECTS and response.headers.get("location"):
                url = urljoin(url, response.headers["location"])
                continue
            if response.status != 200:
                raise RegistryError(f"GET {url}: HTTP {response.status}", status=response.status,
                                    hint="check the repository URL in Chart.yaml and that the server is up")
            if len(response.body) > MAX_CHART_BYTES:
                raise RegistryError(f"GET {url}: more than {MAX_CHART_BYTES} bytes", hint="not a chart archive")
            return response.body
        raise RegistryError(f"GET {url}: too many redirects", hint="check the repository URL")
