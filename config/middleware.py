"""Guards in front of every request: a body must arrive whole; and in front of the API: body size before anything
reads it, and JSON for every error under /api/."""

import io
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse
from gunicorn.http.errors import ParseException

from config.api.errors import report_unhandled


def _json_error(status: int, message: str) -> HttpResponse:
    # Compact, as DRF's renderer writes it, so a 404 from routing is byte for byte a 404 from a view.
    body = json.dumps({"message": message}, separators=(",", ":"))
    return HttpResponse(body, status=status, content_type="application/json")


INCOMPLETE_BODY = "The request body is shorter than its Content-Length."


class IncompleteBody(BadRequest):
    """The body ended before its Content-Length: the client's connection dropped part-way."""

    def __init__(self) -> None:
        super().__init__(INCOMPLETE_BODY)


class WholeBodyStream:
    """The request's body stream, refusing to end before Content-Length bytes have arrived.

    A WSGI server hands the application whatever arrived before the connection closed, and Django reads that as
    the whole body: a form cut after `name=Jonathan` would be parsed and applied as if complete. Reading past the
    end of what arrived raises IncompleteBody (a 400) instead, before any parser sees the part.
    """

    def __init__(self, stream: Any, length: int) -> None:
        self._stream = stream
        self._left = length

    def read(self, size: int | None = -1, /) -> bytes:
        wanted = self._left if size is None or size < 0 else min(size, self._left)
        chunks = []
        got = 0
        while got < wanted:  # a short read is not yet the end: only an empty one is
            data = self._stream.read(wanted - got)
            if not data:
                raise IncompleteBody()
            chunks.append(data)
            got += len(data)
        self._left -= got
        return b"".join(chunks)

    def readline(self, size: int | None = -1, /) -> bytes:
        line: bytes = self._stream.readline(size)
        self._left -= len(line)
        if self._left > 0 and not line.endswith(b"\n") and (size is None or size < 0 or len(line) < size):
            raise IncompleteBody()
        return line

    def close(self) -> None:
        self._stream.close()


class WholeBodyMiddleware:
    """Every door (the API, the claimant's pages, the back office) reads only bodies that arrived whole."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # a malformed Content-Length: Django reads no body; the API refuses it (ApiGuardMiddleware)
        if length > 0:  # request._stream is what Django reads the body from (wsgi.input within Content-Length)
            request._stream = WholeBodyStream(request._stream, length)  # type: ignore[assignment]
        return self.get_response(request)


class ApiGuardMiddleware:
    """Keeps the API's promise that no response is HTML and no body is read beyond its limit.

    Django answers some failures itself, before or around a view (unknown route, disallowed host,
    a crash in DEBUG's technical page): under /api/ those become `{"message": ...}` too. A body
    larger than API_MAX_BODY_BYTES is refused with 413 from its Content-Length, before a parser
    spools a multipart upload to disk.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        chunked = "chunked" in str(request.META.get("HTTP_TRANSFER_ENCODING", "")).lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            # Django reads a body by its Content-Length: without one a chunked body would read as empty and the
            # request would "succeed" having changed nothing. A server that de-chunks the body and says so
            # (gunicorn sets wsgi.input_terminated) lets it be read here, within the limit; otherwise refuse it.
            if not request.META.get("wsgi.input_terminated"):
                return _json_error(411, "The request needs a Content-Length header; chunked bodies are not accepted.")
            try:
                body = request.META["wsgi.input"].read(settings.API_MAX_BODY_BYTES + 1)
            except (ParseException, OSError):  # gunicorn's: a chunk size that is no number, a chunk cut short
                return _json_error(400, "The chunked request body is malformed or cut short.")
            if len(body) > settings.API_MAX_BODY_BYTES:
                return _json_error(413, "The request body is too large.")
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = LimitedStream(io.BytesIO(body), len(body))  # type: ignore[assignment]  # Django reads the body from it
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw_length)
        except ValueError:
            return _json_error(400, "The Content-Length header is malformed.")
        if length > settings.API_MAX_BODY_BYTES:
            return _json_error(413, "The request body is too large.")
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith("application/json"):
            response = self._as_json(response)
        if request.path.startswith("/api/v1/"):
            response["Cache-Control"] = "no-store"  # personal data: no shared or browser cache keeps it
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Views outside DRF never run under /api/, but a crash in URL resolution or middleware still must not
        # reach DEBUG's HTML traceback page.
        if request.path.startswith("/api/"):
            response = _json_error(500, "Server Error")
            report_unhandled(request, response, exception)
            return response
        return None

    @staticmethod
    def _as_json(response: HttpResponse) -> HttpResponse:
        status = response.status_code
        if status == 404:
            message = "Not found."
        elif status == 413:
            message = "The request body is too large."
        else:
            try:
                message = HTTPStatus(status).phrase
            except ValueError:
                message = "Error"
        replacement = _json_error(status, message)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                replacement[header] = response[header]
        return replacement
