"""What no log line, error mail or error event may carry, declared once: credentials inside URLs.

Imported by config/gunicorn.conf.py before Django is set up, so nothing here reads settings at import.
"""

import re
from typing import Any

MASK = "********"

# The user and password of a URL (`redis://:password@host`, `postgres://user:password@host`, a Sentry DSN's key),
# and query parameters that carry a credential (`?password=...`).
_URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)[^/\s@'\"<>]+@", re.IGNORECASE)
_QUERY_CREDENTIALS = re.compile(
    r"(?P<name>[?&](?:password|passwd|pass|secret|token|api_key|key|auth)=)[^&\s'\"<>]+", re.IGNORECASE
)


def scrub(text: str) -> str:
    """`text` without the credentials of the URLs it contains."""
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
