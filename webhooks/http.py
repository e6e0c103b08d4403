"""One POST to a webhook endpoint, to the address that was checked: the host is resolved once, every address
must be public (unless private ones are allowed), and the connection goes to that address, so a DNS answer that
changes between the check and the connection (DNS rebinding) cannot redirect it. Redirects are not followed."""

from __future__ import annotations

import contextlib
import heapq
import http.client
import ipaddress
import socket
import threading
import time
from collections.abc import Callable
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


def _open(address: str, port: int, timeout: float | None) -> socket.socket:
    """A connection to the checked address, without Nagle's delay (as `HTTPConnection.connect` sets it): a body
    sent after its headers would otherwise wait for the receiver's delayed ACK, some 40 ms an attempt."""
    sock = socket.create_connection((address, port), timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _Pinned(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = _open(self._address, self.port, self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        sock = _open(self._address, self.port, self.timeout)
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


class _Watchdog:
    """One thread that cuts off attempts past their deadline (a thread per attempt cost more than the attempt)."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.heap: list[tuple[float, int, Callable[[], None]]] = []
        self.armed: set[int] = set()
        self.cancelled: set[int] = set()
        self.count = 0
        self.thread: threading.Thread | None = None

    def arm(self, seconds: float, cut: Callable[[], None]) -> int:
        with self.lock:
            self.count += 1
            heapq.heappush(self.heap, (time.monotonic() + seconds, self.count, cut))
            self.armed.add(self.count)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self.run, name="webhook deadlines", daemon=True)
                self.thread.start()
            self.lock.notify()
            return self.count

    def disarm(self, handle: int) -> None:
        with self.lock:
            if handle in self.armed:
                self.armed.discard(handle)
                self.cancelled.add(handle)

    def run(self) -> None:
        while True:
            with self.lock:
                while self.heap and self.heap[0][1] in self.cancelled:
                    self.cancelled.discard(heapq.heappop(self.heap)[1])
                wait = self.heap[0][0] - time.monotonic() if self.heap else None
                if wait is None or wait > 0:
                    self.lock.wait(wait)
                    continue
                _at, handle, cut = heapq.heappop(self.heap)
                self.armed.discard(handle)
            cut()


_watchdog = _Watchdog()

Connection = _Pinned | _PinnedTLS
Origin = tuple[str, str, int, str]  # scheme, host, port, the address checked


class Pool:
    """Connections kept open per origin and checked address, for the next attempt to the same endpoint: an
    attempt resolves and checks the host as before, and reuses only a connection to the address it has just
    checked. At most `size` idle connections per origin; one idle longer than `idle` seconds is closed."""

    def __init__(self, size: int, idle: float = 20.0) -> None:
        self.size = size
        self.idle = idle
        self.lock = threading.Lock()
        self.kept: dict[Origin, list[tuple[float, Connection]]] = {}

    def take(self, origin: Origin) -> Connection | None:
        with self.lock:
            kept = self.kept.get(origin, [])
            while kept:
                since, conn = kept.pop()
                if time.monotonic() - since < self.idle:
                    return conn
                conn.close()
        return None

    def give(self, origin: Origin, conn: Connection) -> None:
        with self.lock:
            kept = self.kept.setdefault(origin, [])
            if len(kept) < self.size:
                kept.append((time.monotonic(), conn))
                return
        conn.close()

    def close(self) -> None:
        with self.lock:
            kept, self.kept = self.kept, {}
        for connections in kept.values():
            for _since, conn in connections:
                conn.close()


# A reused connection the receiver closed meanwhile fails before any answer: sent again once on a new one.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


def post(url: str, body: bytes, headers: dict[str, str], pool: Pool | None = None) -> Outcome:
    """One POST; with `pool`, over a kept connection to the same origin and address when there is one, and the
    connection kept afterwards when the answer was read whole and the receiver did not close it."""
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
    origin = (parts.scheme, host, port, address)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # The timeout bounds each wait on the socket; a receiver that sends its answer a byte at a time never trips
    # it, so the whole attempt is cut off after three of them (issue 18.3).
    deadline = 3 * settings.WEBHOOK_TIMEOUT_SECONDS
    reused = pool.take(origin) if pool is not None else None
    connection = reused or _connection(origin)
    cut_off = threading.Event()

    def cut() -> None:
        cut_off.set()
        sock = connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    handle = _watchdog.arm(deadline, cut)
    keep = False
    try:
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
        except _STALE:
            if reused is None or cut_off.is_set():
                raise
            connection.close()
            connection = _connection(origin)
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
        kept = response.read(RESPONSE_BODY_KEPT).decode("utf-8", errors="replace")
        if cut_off.is_set():
            return outcome(None, f"No complete answer within {deadline:g} s.")
        keep = pool is not None and response.isclosed() and not response.will_close
        return outcome(response.status, "", kept)
    except TimeoutError:
        return outcome(None, f"No answer within {settings.WEBHOOK_TIMEOUT_SECONDS} s.")
    except (OSError, http.client.HTTPException) as exc:
        if cut_off.is_set():
            return outcome(None, f"No complete answer within {deadline:g} s.")
        return outcome(None, f"Connection failed: {exc.__class__.__name__}: {exc}")
    finally:
        _watchdog.disarm(handle)
        if keep and pool is not None and not cut_off.is_set():
            pool.give(origin, connection)
        else:
            connection.close()


def _connection(origin: Origin) -> Connection:
    scheme, host, port, address = origin
    kind = _PinnedTLS if scheme == "https" else _Pinned
    return kind(host, port, address, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
