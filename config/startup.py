"""What a process that serves or works checks before it starts: the settings production cannot run without.

The settings themselves load without them, so tools that only read the code (makemigrations, mypy, the schema,
collectstatic) run anywhere; the web server (config/wsgi.py, config/asgi.py, runserver) and the task worker
(`manage.py db_worker`) stop here instead.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MISSING_KEY_MESSAGE = (
    "SECRET_KEY is not set. Without DEBUG the service needs a secret key, the same on every host and kept across "
    "releases. Make one with  python3 -c 'import secrets; print(secrets.token_urlsafe(50))'  and set SECRET_KEY to "
    "it (docs/operating.md). With DEBUG=1 (development only) a key kept in .local/secret_key is used instead."
)


def require_secret_key() -> None:
    """Raise ImproperlyConfigured, naming the setting and how to make one, when SECRET_KEY is not set."""
    try:
        settings.SECRET_KEY  # noqa: B018 (Django raises on reading an empty key)
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(MISSING_KEY_MESSAGE) from exc
