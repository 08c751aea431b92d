"""A kubeconfig for a business cluster from TKEStack's own records: its `ClusterCredential` (token or
client certificate, and the CA) and the API address in the Cluster's `status.addresses`.

TKEStack skipped TLS verification when a credential had no CA; we refuse instead, unless the Cluster's
`tke-catalog.io/insecure-skip-tls-verify` annotation says to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toolkit.errors import InputError

__all__ = ["api_address", "kubeconfig_from_credential"]

# TKEStack's AddressType values, in the order we prefer them
_ADDRESS_ORDER = ("Advertise", "Real", "Internal", "Support")


def api_address(cluster: Mapping[str, Any]) -> str | None:
    """`https://host:port[/path]` of the Cluster's API server from `status.addresses`, or None."""
    addresses = [a for a in ((cluster.get("status") or {}).get("addresses") or []) if isinstance(a, Mapping)]
    for kind in _ADDRESS_ORDER:
        for address in addresses:
            if address.get("type") == kind and address.get("host"):
                port = address.get("port") or 443
                return f"https://{address['host']}:{port}{address.get('path') or ''}"
    return None


def kubeconfig_from_credential(cluster: Mapping[str, Any], credential: Mapping[str, Any], *,
                               insecure: bool = False) -> dict[str, Any]:
    """The kubeconfig document for the Cluster, from its ClusterCredential (`caCert`, `token`, `clientCert`,
    `clientKey`: base64, as TKEStack's JSON carries []byte). InputError says what is missing."""
    name = str((cluster.get("metadata") or {}).get("name", ""))
    server = api_address(cluster)
    if server is None:
        raise InputError(f"Cluster {name}: status.addresses names no API server address",
                         hint="give the Cluster an Advertise or Real address, or a Secret <cluster>-kubeconfig")
    user: dict[str, Any] = {}
    if credential.get("token"):
        user["token"] = str(credential["token"])
    elif credential.get("clientCert") and credential.get("clientKey"):
        user["client-certificate-data"] = str(credential["clientCert"])
        user["client-key-data"] = str(credential["clientKey"])
    else:
        raise InputError(f"ClusterCredential of Cluster {name} holds neither a token nor a client certificate",
                         hint="add token, or clientCert and clientKey, to the ClusterCredential")
    entry: dict[str, Any] = {"server": server}
    if credential.get("caCert"):
        entry["certificate-authority-data"] = str(credential["caCert"])
    elif insecure:
        entry["insecure-skip-tls-verify"] = True
    else:
        raise InputError(f"ClusterCredential of Cluster {name} has no caCert: its API server cannot be verified",
                         hint="add caCert to the ClusterCredential, or annotate the Cluster "
                              "tke-catalog.io/insecure-skip-tls-verify: \"true\" to accept that risk")
    return {"apiVersion": "v1", "kind": "Config", "current-context": name,
            "clusters": [{"name": name, "cluster": entry}], "users": [{"name": name, "user": user}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}]}
