"""gunicorn's sync worker, answering in the API's JSON what gunicorn refuses before Django sees it.

gunicorn parses the request line and headers itself and refuses some requests outright (a control byte in a
header, `Content-Length: -1`, both Content-Length and Transfer-Encoding, a request line over 4094 bytes: 414,
header fields over their limits: 431). It answers those with an HTML page written by `gunicorn.util.write_error`
(called from `gunicorn.workers.base.Worker.handle_error`, read in gunicorn 27). The limits stay gunicorn's: they
protect the worker before any Python of ours runs, and a request it cannot parse has no path to route. Only the
answer changes: `{"message": ...}` with the same status, as the API's contract says every error is. The path is
often unknown at that point (a request line too long was never read), so every path gets the JSON; a browser on
the public pages never sends such a request. tests/config/test_server_answers.py pins this against a real gunicorn.
"""

import json
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

MESSAGES = {
    400: "The request is malformed.",
    403: "The request is forbidden.",
    414: "The request line is too long.",
    417: "The expectation given in the Expect header cannot be met.",
    431: "The request's header fields are too large.",
    500: "Server Error",
    501: "The request's transfer coding is not supported.",
}


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """`gunicorn.util.write_error`'s answer, as the API's JSON. `mesg` (which may repeat the client's own bytes) is
    left to gunicorn's log line, as before."""
    body = json.dumps({"message": MESSAGES.get(status_int, reason)}, separators=(",", ":")).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


class JsonErrorSyncWorker(SyncWorker):
    """The sync worker (config/gunicorn.conf.py), its own error answers in JSON."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        # gunicorn decides the status and logs as it always does; only the page it writes is swapped, for this call
        # (a sync worker serves one request at a time, so nothing else writes an error meanwhile).
        html_page = util.write_error
        util.write_error = write_json_error
        try:
            super().handle_error(req, client, addr, exc)
        finally:
            util.write_error = html_page


class JsonErrorThreadWorker(ThreadWorker):
    """gunicorn's threaded worker (config/gunicorn.conf.py, WEB_THREADS above 1), its own error answers in JSON. Its
    threads may answer errors at once, so the page is swapped for the worker process's whole life, before any thread
    starts: every error page it writes is the JSON one, as the sync worker's are."""

    def init_process(self) -> None:
        util.write_error = write_json_error
        super().init_process()
