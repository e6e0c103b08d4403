"""The container's health check (the Dockerfile's HEALTHCHECK): `python -m config.healthcheck` asks this container's
own server for /health/live as a request from outside would, and exits 0 on a 200.

So it passes wherever the service works: with the Host the service answers to, the first of ALLOWED_HOSTS (asking
for 127.0.0.1 is a 400 under ALLOWED_HOSTS=appointments.example.com), over plain HTTP, which the health endpoints
answer with HTTPS=1 too (SECURE_REDIRECT_EXEMPT: a probe inside the container has no TLS), at the address
gunicorn binds (BIND or PORT, as config/gunicorn.conf.py reads them).
"""

import http.client
import os
import socket
import sys

TIMEOUT = 4  # seconds; the HEALTHCHECK's own --timeout is 5


def host() -> str:
    """The Host header: the first name of ALLOWED_HOSTS ("*" and ".example.com" made into one a request can carry)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    for allowed in settings.ALLOWED_HOSTS:
        return "localhost" if allowed == "*" else allowed.lstrip(".")
    return "localhost"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=TIMEOUT)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(self._path)


def connection() -> http.client.HTTPConnection:
    """A connection to the address gunicorn binds: BIND (host:port or unix:path), else 0.0.0.0:$PORT."""
    bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}").split(",")[0].strip()
    if bind.startswith("unix:"):
        return _UnixConnection(bind.removeprefix("unix:"))
    address, _, port = bind.rpartition(":")
    address = address.strip("[]")
    address = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(address, address)  # noqa: S104 (read, not bound)
    return http.client.HTTPConnection(address, int(port), timeout=TIMEOUT)


def main(path: str = "/health/live") -> int:
    conn = connection()
    try:
        conn.request("GET", path, headers={"Host": host()})
        status = conn.getresponse().status
    except OSError as error:
        print(f"{path}: {error}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    if status != 200:
        print(f"{path}: {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
