"""One POST to a webhook endpoint, to the address that was checked: the host is resolved once, every address
must be public (unless private ones are allowed), and the connection goes to that address, so a DNS answer that
changes between the check and the connection (DNS rebinding) cannot redirect it. Redirects are not followed."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import threading
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


# IPv6 ranges that are never a webhook's address, whatever Python's `is_global` says of them in a given release:
# IPv4-compatible addresses (::a.b.c.d, deprecated; `::127.0.0.1` reaches the loopback on some stacks), the
# local-use NAT64 prefix (RFC 8215) and Teredo (its client address is the far end of a tunnel, not checked here).
_NEVER = [ipaddress.ip_network(net) for net in ("::/96", "64:ff9b:1::/48", "2001::/32")]
# IPv6 ranges that carry an IPv4 address which the packet reaches in the end: IPv4-mapped and IPv4-translated
# (low 32 bits), the well-known NAT64 prefix (RFC 6052; low 32 bits: a DNS64 resolver answers these for public
# hosts, so a public embedded address is allowed) and 6to4 (bits 16 to 48).
_EMBEDDING_LOW = [ipaddress.ip_network(net) for net in ("::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96")]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in _EMBEDDING_LOW):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    """Whether a webhook may go to this address: globally reachable, not multicast, not an IPv6 form of an address
    that is not (`::ffff:127.0.0.1`, `64:ff9b::a9fe:a9fe`, `2002:a9fe:a9fe::`, Teredo, `::127.0.0.1`)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in net for net in _NEVER):
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            # The address it carries decides, before `is_global`: Python 3.13 calls all of 6to4 (2002::/16) not
            # global, 3.11 and 3.12 none of it.
            return is_public(str(embedded))
    return ip.is_global


def public_address(host: str, port: int) -> tuple[str | None, str]:
    """(the address to connect to, "") or (None, why not). Every address the host resolves to must be public
    (unless private ones are allowed); why not never says what the host resolves to, which would tell an API user
    what an internal name points at."""
    try:
        addresses = [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    except (OSError, UnicodeError):
        return None, f"Could not resolve {host}."
    if not addresses:
        return None, f"Could not resolve {host}."
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES and not all(is_public(address) for address in addresses):
        return None, f"{REFUSED} {host} is not a public address."
    return addresses[0], ""


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    started = time.monotonic()

    def outcome(status_code: int | None, error: str = "", response_body: str = "") -> Outcome:
        elapsed = round((time.monotonic() - started) * 1000)
        return Outcome(status_code, error[:300], response_body, elapsed)

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address, refusal = public_address(host, port)
    if address is None:
        return outcome(None, refusal)
    kind = _PinnedTLS if parts.scheme == "https" else _Pinned
    connection = kind(host, port, address, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # The timeout bounds each wait on the socket; a receiver that sends its answer a byte at a time never trips
    # it, so the whole attempt is cut off after three of them (issue 18.3).
    deadline = 3 * settings.WEBHOOK_TIMEOUT_SECONDS
    cut_off = threading.Event()

    def cut() -> None:
        cut_off.set()
        if connection.sock is not None:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(deadline, cut)
    timer.daemon = True
    timer.start()
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        kept = response.read(RESPONSE_BODY_KEPT).decode("utf-8", errors="replace")
        if cut_off.is_set():
            return outcome(None, f"No complete answer within {deadline:g} s.")
        return outcome(response.status, "", kept)
    except TimeoutError:
        return outcome(None, f"No answer within {settings.WEBHOOK_TIMEOUT_SECONDS} s.")
    except (OSError, http.client.HTTPException) as exc:
        if cut_off.is_set():
            return outcome(None, f"No complete answer within {deadline:g} s.")
        return outcome(None, f"Connection failed: {exc.__class__.__name__}: {exc}")
    finally:
        timer.cancel()
        connection.close()
