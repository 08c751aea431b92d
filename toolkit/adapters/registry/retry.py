"""The registry client's one retry policy: connection errors, 429 and 5xx are retried with bounded
exponential backoff (`Retry-After` honoured) and an injected sleep; TLS failures and unknown hosts fail
at once. Whatever is left when the attempts run out becomes a RegistryError that says what to try.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from toolkit.adapters.registry.transport import (
    HttpResponse,
    Transport,
    TransportFailure,
)
from toolkit.errors import RegistryError

__all__ = ["RetryPolicy", "is_retryable", "send_with_retry"]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff for connection errors, 429 and 5xx (`Retry-After` honoured)."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, retry: int, retry_after: str | None = None) -> float:
        """Seconds to wait before retry number `retry` (1-based)."""
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after.strip()), self.max_delay * 4)
        return float(min(self.base_delay * 2.0 ** (retry - 1), self.max_delay))


def is_retryable(status: int) -> bool:
    """Whether an HTTP status is worth asking again for: 429 and every 5xx."""
    return status == 429 or 500 <= status <= 599


def send_with_retry(transport: Transport, method: str, url: str, headers: Mapping[str, str],
                    body: bytes | None, *, what: str, host: str, plain_http: bool, policy: RetryPolicy,
                    sleep: Callable[[float], None]) -> HttpResponse:
    """One request with the retry policy; raises RegistryError when retries are used up.

    A retryable status on the last attempt is returned, not raised, so the caller can report the
    registry's own message.
    """
    retry = 0
    while True:
        try:
            response = transport.request(method, url, headers=headers, body=body)
        except TransportFailure as exc:
            if exc.tls and "certificate" in str(exc).lower():
                raise RegistryError(
                    f"{what}: cannot verify {host}'s TLS certificate ({exc})",
                    hint="pass the registry's CA with --ca-file FILE (or, for a throw-away "
                         "registry only, --insecure-skip-tls-verify)") from exc
            if exc.tls:
                raise RegistryError(f"{what}: TLS with {host} failed ({exc})",
                                    hint="if the registry speaks plain HTTP, pass --plain-http (or give it plainHTTP: true "
                                         "in ~/.config/tke-catalog/config.yaml)") from exc
            if exc.permanent:
                raise RegistryError(f"{what}: {host} cannot be reached: {exc}",
                                    hint="check the registry's host name") from exc
            if retry + 1 >= policy.attempts:
                hint = ("is the registry running and reachable? "
                        + ("(it may speak plain HTTP: try --plain-http)" if not plain_http else ""))
                raise RegistryError(f"{what}: {host} unreachable after {retry + 1} attempts: {exc}",
                                    hint=hint.strip()) from exc
            retry += 1
            sleep(policy.delay(retry))
            continue
        if is_retryable(response.status) and retry + 1 < policy.attempts:
            retry += 1
            sleep(policy.delay(retry, response.headers.get("retry-after")))
            continue
        return response
