"""The worker's own health endpoints, served from a thread when WORKER_HEALTH_PORT is set (a worker has no web
server, and its health is not the web's):

- `/health/live`: 200 while every queue's loop and the heart are running (a 503 names the one that stopped);
- `/health/ready`: 200 when the database answers and nothing is stuck; a 503 otherwise, with what is stuck
  (worker/sweep.py: webhook deliveries or messages overdue by more than TASK_STUCK_AFTER_SECONDS, tasks overdue
  or running too long), in JSON.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from typing import Any

from django.db import DatabaseError, connection
from django.utils import timezone

from config.outage import DATABASE_UNAVAILABLE
from worker.sweep import stuck_report


def ready() -> tuple[int, dict[str, Any]]:
    try:
        report = stuck_report(timezone.now())
    except DATABASE_UNAVAILABLE:
        return 503, {"status": "unavailable", "database": "does not answer"}
    finally:
        with contextlib.suppress(DatabaseError):
            connection.close()  # a request thread's connection is not reused
    if report:
        return 503, {"status": "stuck", "database": "ok", "stuck": report}
    return 200, {"status": "ok", "database": "ok", "stuck": {}}


def live(threads: list[threading.Thread]) -> tuple[int, dict[str, Any]]:
    stopped = [thread.name for thread in threads if not thread.is_alive()]
    if stopped:
        return 503, {"status": "stopped", "stopped": stopped}
    return 200, {"status": "ok"}


def serve(port: int, threads: list[threading.Thread]) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0].rstrip("/")
            if path == "/health/ready":
                status, body = ready()
            elif path == "/health/live":
                status, body = live(threads)
            else:
                status, body = 404, {"message": "Not found."}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass  # probes every few seconds are not worth a line each

    server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler)  # noqa: S104 (probed from outside)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server
