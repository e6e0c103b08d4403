"""One POST to a webhook endpoint, to the address that was checked: the host is resolved once, every address
must be public (unless private ones are allowed), and the connection goes to that address, so a DNS answer that
changes between the check and the connection (DNS rebinding) cannot redirect it. Redirects are not followed."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from webhooks.models import RESPONSE_BODY_KEPT


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    response_body: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        """5xx, 408, 429, timeouts and connection errors are worth another try; other answers and a refused
        address are not."""
        if self.status_code is None:
            return not self.error.startswith(REFUSED)
        return self.status_code >= 500 or self.status_code in (408, 429)


REFUSED = "Refused:"


class _Pinned(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def address_refusal(host: str, port: int) -> tuple[str | None, str]:
    """(the address to connect to, "") or (None, why not)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        return None, f"Could not resolve {host}: {exc}"
    addresses = [str(info[4][0]) for info in infos]
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not ip.is_global or ip.is_multicast:
                return None, f"{REFUSED} {host} resolves to {address}, which is not a public address."
    return (addresses[0], "") if addresses else (None, f"Could not resolve {host}.")


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    started = time.monotonic()

    def outcome(status_code: int | None, error: str = "", response_body: str = "") -> Outcome:
        elapsed = round((time.monotonic() - started) * 1000)
        return Outcome(status_code, error[:300], response_body, elapsed)

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address, refusal = address_refusal(host, port)
    if address is None:
        return outcome(None, refusal)
    kind = _PinnedTLS if parts.scheme == "https" else _Pinned
    connection = kind(host, port, address, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        kept = response.read(RESPONSE_BODY_KEPT).decode("utf-8", errors="replace")
        return outcome(response.status, "", kept)
    except TimeoutError:
        return outcome(None, f"No answer within {settings.WEBHOOK_TIMEOUT_SECONDS} s.")
    except (OSError, http.client.HTTPException) as exc:
        return outcome(None, f"Connection failed: {exc.__class__.__name__}: {exc}")
    finally:
        connection.close()
