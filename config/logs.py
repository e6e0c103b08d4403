"""Log lines, declared once for every process: the formatters Django and gunicorn share (one JSON shape, or one
text shape), the request id on every line, gunicorn's access line as named fields, and what no log line, error
mail or error event may carry (the secret of a private link's path, credentials inside URLs).

Imported by config/gunicorn.conf.py before Django is set up, so nothing here reads settings at import.
"""

import logging
import re
from datetime import UTC, datetime
from typing import Any

from django_guid.context import guid
from gunicorn.glogging import Logger as GunicornBaseLogger
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

MASK = "********"
REDACTED = "[redacted]"

# Paths whose next segment is a bearer secret: whoever has the link is let in (the claimant's, an interpreter's
# and a guest's `/join/<token>`, and every step under it). A new route with a secret in its path is added here;
# tests/config/test_error_reports.py fails for a route with a `token` in its path that this does not cover.
SECRET_PATHS = re.compile(
    # and a staff member's calendar feed, `/calendar/<token>.ics` (issue 24.6; only that shape, not a page's
    # `…/calendar/<day>/`)
    r"(?P<prefix>\bjoin/|(?<![\w-])calendar/(?=[^/?#\s'\"<>\\]+\.ics))[^/?#\s'\"<>\\]+"
)  # with or without its leading slash

# The user and password of a URL (`redis://:password@host`, `postgres://user:password@host`, a Sentry DSN's key),
# and query parameters that carry a credential (`?password=...`).
_URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)[^/\s@'\"<>]+@", re.IGNORECASE)
_QUERY_CREDENTIALS = re.compile(
    r"(?P<name>[?&](?:password|passwd|pass|secret|token|api_key|key|auth)=)[^&\s'\"<>]+", re.IGNORECASE
)


def scrub(text: str) -> str:
    """`text` without the secrets of the private links and the credentials of the URLs it contains."""
    text = SECRET_PATHS.sub(rf"\g<prefix>{REDACTED}", text)
    text = _URL_CREDENTIALS.sub(rf"\g<scheme>{MASK}@", text)
    return _QUERY_CREDENTIALS.sub(rf"\g<name>{MASK}", text)


def scrub_deep(value: Any) -> Any:
    """`value` with every string in it scrubbed, through dicts, lists and tuples (a Sentry event, say)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: scrub_deep(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub_deep(item) for item in value)
    return value


def scrub_event(event: Any, hint: Any) -> Any:
    """Sentry's `before_send`: the event (its URL, messages, breadcrumbs, exception values) scrubbed."""
    return scrub_deep(event)


def _utc_timestamp(record: logging.LogRecord) -> str:
    """ISO 8601 in UTC to the millisecond (`2031-01-01T09:00:00.123Z`), the same on every line of every process."""
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class RequestId(logging.Filter):
    """Every record carries `request_id`: the one it was given (gunicorn's access line), else the current
    request's or task's (django-guid's context), else None."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = guid.get()
        return True


class TextFormatter(logging.Formatter):
    """`2031-01-01T09:00:00.123Z INFO [request id] logger: message`, scrubbed."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _utc_timestamp(record)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = None
        return scrub(super().format(record))


class JsonFormatter(BaseJsonFormatter):
    """One JSON object a line: `timestamp`, `level`, `logger`, `request_id`, `message`, then the record's own
    fields (an access line's `method`, `path`, `status`...; `exc_info` with a traceback), scrubbed."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            rename_fields={"asctime": "timestamp", "levelname": "level", "name": "logger"},
            # Django's request lines carry the request object itself: its text is noise (and its path is the
            # access line's).
            reserved_attrs=[*RESERVED_ATTRS, "request"],
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _utc_timestamp(record)

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


# The formatters and filters every process's logging configuration uses, by name; LOG_FORMAT picks one.
FORMATTERS: dict[str, dict[str, Any]] = {
    "text": {"()": "config.logs.TextFormatter"},
    "json": {"()": "config.logs.JsonFormatter"},
}
FILTERS: dict[str, dict[str, Any]] = {"request_id": {"()": "config.logs.RequestId"}}


def console_handler(log_format: str) -> dict[str, Any]:
    """The one handler every process writes its lines with: standard error, in LOG_FORMAT."""
    if log_format not in FORMATTERS:
        raise ValueError(f"LOG_FORMAT must be text or json, got {log_format!r}")
    return {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["request_id"]}


def gunicorn_logging(log_format: str, level: str) -> dict[str, Any]:
    """gunicorn's `logconfig_dict`: its own lines and its access lines in the same shape as Django's."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": FILTERS,
        "formatters": FORMATTERS,
        "handlers": {"console": console_handler(log_format)},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # No level for gunicorn.error: gunicorn sets it from its own --log-level.
            "gunicorn.error": {"handlers": ["console"], "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "propagate": False, "level": "INFO"},
        },
    }


class GunicornLogger(GunicornBaseLogger):
    """gunicorn's logger, with each access line a record of named fields (formatted as every other line) instead
    of a string built from `access_log_format`."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.cfg.accesslog and not self.cfg.logconfig_dict:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        headers = {str(name).lower(): value for name, value in resp.headers}
        method, path = environ.get("REQUEST_METHOD", "-"), environ.get("PATH_INFO", "-")
        self.access_log.info(
            "%s %s %s",
            method,
            path,
            status,
            extra={
                "request_id": headers.get("x-request-id"),
                "remote": environ.get("REMOTE_ADDR"),
                "method": method,
                "path": path,  # never the query string: searches carry names
                "status": int(status),
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "user_agent": environ.get("HTTP_USER_AGENT"),
            },
        )
