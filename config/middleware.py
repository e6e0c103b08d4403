"""Guards in front of every request: a body must arrive whole; and in front of the API: body size before anything
reads it, and JSON for every error under /api/."""

import io
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from django.conf import settings
from django.core.exceptions import BadRequest
from django.core.handlers.wsgi import LimitedStream
from django.core.signals import setting_changed
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.urls import Resolver404, resolve
from django.utils.cache import patch_vary_headers
from gunicorn.http.errors import ParseException

from config.api.errors import report_unhandled
from config.outage import DATABASE_UNAVAILABLE, database_unavailable_response


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


def lean(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Marks a GET view that uses no session, user, CSRF token or message: LeanMiddleware serves it without the
    middleware that provide them (issue 26.5: the claimant's status poll, which a waiting room asks every few
    seconds per claimant)."""
    view.lean = True  # type: ignore[attr-defined]
    return view


# The Content Security Policy headers of lean answers, by what decides them (LeanMiddleware._policy_headers).
_POLICIES: dict[str, tuple[tuple[str, str], ...]] = {}
_EXCLUDED = "EXCLUDE_URL_PREFIXES"
# What a view sets on its answer to change or skip the policy (django-csp's decorators), report-only's too.
_DECIDE = [f"_csp_{part}{ro}" for ro in ("", "_ro") for part in ("config", "update", "replace", "exempt")]
setting_changed.connect(lambda **kwargs: _POLICIES.clear(), weak=False)


class LeanMiddleware:
    """Serves a GET or HEAD of a `lean` view at once, skipping the middleware after it (sessions, CSRF, the user,
    the second factor, allauth, messages, the single sign-on re-check, axes), and giving its answer what of theirs
    an answer carries: the host check and the rest of CommonMiddleware, X-Frame-Options, the Content Security
    Policy, and `Vary: Cookie` (the answer depends on the browser's cookie). Everything before it (the request id,
    the security headers) applies as to any request, and the database outage's 503 is given as
    DatabaseUnavailableMiddleware gives it; the view keeps its own guards (the link's check, the rate limit, cache
    headers). tests/meetings/test_public_pages.py::TestLeanPoll compares its answers with the whole stack's, header
    by header.

    What it spares a lean answer besides (issue 26.5): the connection's health check (a `SELECT 1` before the
    first query of every request; a lean view, a GET, is run once more on a new connection instead when a reused
    one turns out to be broken), and building the CSP headers, which are the same for every answer of a view (kept
    by what decides them: the view's changes to the policy, exemptions, the settings)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.common = CommonMiddleware(get_response)
        self.frame = XFrameOptionsMiddleware(get_response)
        self.csp = CSPMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method not in ("GET", "HEAD") or request.path.startswith("/api/"):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        if not getattr(match.func, "lean", False):
            return self.get_response(request)
        redirect = self.common.process_request(request)  # the host check (DisallowedHost: a 400)
        if redirect is not None:
            return redirect
        request.resolver_match = match
        self.csp.process_request(request)
        try:
            response = self._answer(request, match.func, match.args, match.kwargs)
        except DATABASE_UNAVAILABLE as exc:
            # DatabaseUnavailableMiddleware's process_exception sees only the views Django's handler calls: the
            # poll's 503 in an outage is given here, the same answer and the same one alert (config/outage.py).
            response = database_unavailable_response(request, exc)
        patch_vary_headers(response, ("Cookie",))
        response = self.common.process_response(request, response)
        response = self.frame.process_response(request, response)  # type: ignore[arg-type]
        return self._policy_headers(request, response)

    @staticmethod
    def _answer(
        request: HttpRequest, view: Callable[..., HttpResponseBase], args: Any, kwargs: Any
    ) -> HttpResponseBase:
        """The view's answer without the health check's `SELECT 1`: a connection kept from an earlier request that
        turns out broken (the server restarted, or closed it) is closed and the view run once more, on a new one,
        as the health check would have done before it. A connection opened by this request is not retried: its
        failure is an outage's."""
        reused = connection.connection is not None
        # internal: the flag Django's health check sets once it has checked the connection for this request
        # (BaseDatabaseWrapper.close_if_health_check_failed; pinned by tests/config/test_internals_pinned.py).
        connection.health_check_done = True  # type: ignore[attr-defined]
        try:
            return view(request, *args, **kwargs)
        except DATABASE_UNAVAILABLE:
            if not reused:
                raise
            connection.close()
        return view(request, *args, **kwargs)

    def _policy_headers(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        """CSPMiddleware's headers, built by it once per policy and then copied: only for an answer that used no
        nonce and has no CSP header of its own (any other is given to CSPMiddleware whole)."""
        if getattr(request, "_csp_nonce", None) is not None or HEADER in response or HEADER_REPORT_ONLY in response:
            return self.csp.process_response(request, response)
        excluded = [
            request.path_info.startswith(tuple((getattr(settings, name, None) or {}).get(_EXCLUDED) or ()))
            for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
        ]
        key = repr((response.status_code, settings.DEBUG, excluded, [getattr(response, n, None) for n in _DECIDE]))
        headers = _POLICIES.get(key)
        if headers is None:
            response = self.csp.process_response(request, response)
            _POLICIES[key] = tuple((name, response[name]) for name in (HEADER, HEADER_REPORT_ONLY) if name in response)
            return response
        for name, value in headers:
            response[name] = value
        # As CSPMiddleware leaves it: a nonce asked for after the header is written is an error, not a silent gap.
        request.csp_nonce = CheckableLazyObject(CSPMiddleware._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
