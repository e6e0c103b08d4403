"""One alert per database outage.

While the database does not answer, every request that needs it is answered 503 with `Retry-After` (the API in its
JSON shape, through config/api/errors.py; any other page a plain page, through DatabaseUnavailableMiddleware). Each
of those used to be logged at ERROR, so ADMINS got a mail per failed request (82 to 3,036 an outage). Now, in each
process, the first failure of an outage is logged at ERROR with what the database said (the alert: a mail, and a
Sentry event), and the others at WARNING, until the database answers again: the process opens a new connection
(Django's `connection_created`), which it does only when the server accepts it.
"""

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.db import InterfaceError, OperationalError
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.log import log_response

# Not django.request: Sentry ignores that logger, and the alert is meant to reach it.
logger = logging.getLogger("config.outage")

UNAVAILABLE_MESSAGE = "The service is temporarily unavailable. Try again shortly."
RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


class _Outage:
    """Whether this process is in a database outage; shared by its threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down = False

    def begin(self) -> bool:
        """Note a failure; True when it is the first of an outage."""
        with self.lock:
            first, self.down = not self.down, True
        return first

    def end(self, **kwargs: Any) -> None:
        self.down = False


outage = _Outage()
connection_created.connect(outage.end, weak=False)


def report_database_unavailable(request: HttpRequest | None, response: HttpResponse, exc: BaseException) -> None:
    """Log a request answered 503 because the database does not answer: ERROR (with the exception) for the first of
    an outage, WARNING for the rest. The response is marked logged, so Django does not log it again at ERROR."""
    first = outage.begin()
    path = request.path if request is not None else "(no request)"
    log_response(
        "Service Unavailable, the database does not answer (%s): %s",
        type(exc).__name__,
        path,
        response=response,
        request=request,
        logger=logger,
        level="error" if first else "warning",
        exception=exc if first else None,
    )


class DatabaseUnavailableMiddleware:
    """A view that fails because the database does not answer gets a 503 and one alert per outage, not a 500 and
    a mail: JSON under /api/ (DRF's views answer that themselves), a plain page elsewhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_UNAVAILABLE):
            return None
        return database_unavailable_response(request, exception)


def database_unavailable_response(request: HttpRequest, exception: BaseException) -> HttpResponse:
    """The 503 of a request the database could not answer, reported once per outage: DatabaseUnavailableMiddleware's,
    and LeanMiddleware's for the views it calls itself (config/middleware.py)."""
    if request.path.startswith("/api/"):
        response = HttpResponse(f'{{"message":"{UNAVAILABLE_MESSAGE}"}}', status=503, content_type="application/json")
    else:
        # Rendered without the request: its context processors could need the database.
        response = HttpResponse(render_to_string("service_unavailable.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    report_database_unavailable(request, response, exception)
    return response
