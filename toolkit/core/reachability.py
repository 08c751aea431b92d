"""Whether an error says the cluster stopped answering (as opposed to refusing one request), pure: a
run that meets it ends early with one error instead of trying every remaining release."""

from __future__ import annotations

__all__ = ["says_unreachable"]

# What client-go (helm's) and urllib3 (ours) say when no API server answers at the address.
_UNREACHABLE = (
    "connection refused", "kubernetes cluster unreachable", "no such host", "i/o timeout",
    "tls handshake timeout", "connection reset by peer", "no route to host", "network is unreachable",
    "max retries exceeded", "maxretryerror", "failed to establish a new connection", "http2: client connection lost",
    "cannot reach the api server", "unable to connect to the server",
)


def says_unreachable(text: str) -> bool:
    """True when `text` (helm's stderr, a client error) says no API server answered."""
    lowered = text.lower()
    return any(marker in lowered for marker in _UNREACHABLE)
