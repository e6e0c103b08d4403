"""What an error leaves behind, in a mail to ADMINS and in a Sentry event: one mail per error, and no credential
(settings, URLs with passwords, the request's environment) and no private link in either (issue 18, items 5
and 18)."""

import gzip
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.log import configure_logging

from config.logs import JsonFormatter, TextFormatter, scrub
from tests.helpers import Receiver

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "Tok3nThatOpensTheMeeting_abcdefgh"  # the shape of a join token
# Every value below is a credential an error mail must not show.
SECRETS = {
    "SECRET_KEY": "secret-key-marker-5f2c9a",
    "EMAIL_HOST_PASSWORD": "smtp-password-marker-77",
    "REDIS_URL": "redis://:redis-password-marker-31@cache.internal:6379/0",
    "SENTRY_DSN": "https://sentrykeymarker42@o1.ingest.example.com/1",
    "JITSI_APP_SECRET": "jitsi-secret-marker-09",
    "JITSI_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----jitsi-key-marker-18",
}
MARKERS = [
    "secret-key-marker-5f2c9a",
    "smtp-password-marker-77",
    "redis-password-marker-31",
    "sentrykeymarker42",
    "jitsi-secret-marker-09",
    "jitsi-key-marker-18",
    "database-password-marker-64",
    TOKEN,
]


def production_logging() -> dict[str, Any]:
    """LOGGING as a production process builds it from its environment (ADMINS set)."""
    code = (
        "import json, django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup();"
        "from django.conf import settings; print(json.dumps(settings.LOGGING))"
    )
    env = {**os.environ, "ADMINS": "Ops <ops@example.com>"}
    result = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def admins_mailed(settings: Any) -> Iterator[None]:
    """This process logs as production does, with ADMINS set and the credentials above configured."""
    settings.ROOT_URLCONF = "tests.config.raising_urls"
    settings.ADMINS = [("Ops", "ops@example.com")]
    for name, value in SECRETS.items():
        setattr(settings, name, value)
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": SECRETS["REDIS_URL"]},
    }
    configure_logging(settings.LOGGING_CONFIG, production_logging())
    try:
        yield
    finally:
        configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


def everything_mailed() -> str:
    parts: list[str] = []
    for message in mail.outbox:
        parts += [str(message.subject), str(message.body)]
        parts += [str(content) for content, _type in getattr(message, "alternatives", [])]
    return "\n".join(parts)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/failing", f"/join/{TOKEN}/failing"])
def test_one_error_is_one_mail_without_credentials_or_private_links(admins_mailed, path: str) -> None:
    client = Client(raise_request_exception=False)
    # Under `runserver` (wsgiref) the process environment is part of every request's META.
    response = client.get(path, DATABASE_URL="postgres://app:database-password-marker-64@db.internal/app")
    assert response.status_code == 500
    assert len(mail.outbox) == 1, [message.subject for message in mail.outbox]
    report = everything_mailed()
    assert "Failure" in report  # the report is there, traceback and all
    assert "the API view failed" in report or "the page failed" in report
    leaked = [marker for marker in MARKERS if marker in report]
    assert leaked == []
    assert "/join/[redacted]/failing" in report or path.startswith("/api/")


@pytest.mark.django_db
def test_the_debug_error_page_masks_the_same_credentials(admins_mailed, settings: Any) -> None:
    """DEBUG's technical page shows the settings and META through the same filter as the mails."""
    settings.DEBUG = True
    client = Client(raise_request_exception=False)
    response = client.get("/join/any/failing", DATABASE_URL="postgres://app:database-password-marker-64@db/app")
    assert response.status_code == 500
    page = response.content.decode()
    assert "REDIS_URL" in page  # the settings are listed, masked
    assert [marker for marker in MARKERS if marker in page] == []


def test_sentry_events_carry_no_private_link_or_credential() -> None:
    """A process configured with SENTRY_DSN (pointing here) sends an error and a logged error on a private link."""
    code = f"""
import logging, os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
django.setup()
import sentry_sdk
from django.conf import settings
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
settings.ROOT_URLCONF = "tests.config.raising_urls"
client = Client(raise_request_exception=False)
client.get("/join/{TOKEN}/failing")
client.post("/api/v1/failing", {{"name": "Ada Personal-Marker"}}, content_type="application/json")
logging.getLogger("meetings").error("cannot reach redis://:redis-password-marker-31@cache for /join/{TOKEN}/status")
sentry_sdk.flush()
"""
    with Receiver() as sentry:
        dsn = sentry.url.replace("http://", "http://sentrykeymarker42@").replace("/hooks", "/1")
        env = {**os.environ, "SENTRY_DSN": dsn}
        result = subprocess.run(  # noqa: S603 (our own interpreter and code)
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, check=False
        )
        assert result.returncode == 0, result.stderr
    bodies = []
    for received in sentry.received:
        body = received.body
        if received.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        elif received.headers.get("content-encoding") == "br":
            pytest.fail("brotli-encoded event: set transport_compression_algo for this test")
        bodies.append(body.decode())
    sent = "\n".join(bodies)
    assert "the page failed" in sent  # the exceptions' events
    assert "on a body of 19 characters" in sent
    assert "cannot reach" in sent  # the logged error's event
    assert "join/[redacted]" in sent
    assert [marker for marker in (TOKEN, "redis-password-marker-31", "Personal-Marker") if marker in sent] == []


def _routes(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def test_every_route_with_a_token_in_its_path_is_redacted() -> None:
    """The secret paths are declared once (config.logs.SECRET_PATHS); a new route with a token the declaration
    misses fails here."""
    routes = [route for route, _pattern in _routes(get_resolver()) if "<str:token>" in route or "<token>" in route]
    assert routes  # the claimant's pages are among them
    for route in routes:
        path = "/" + route.replace("<str:token>", TOKEN).replace("<token>", TOKEN).lstrip("^")
        assert TOKEN not in scrub(f"GET {path} 200"), route


def test_the_development_servers_request_lines_are_redacted_too() -> None:
    """runserver logs each request on `django.server`; its lines go through the same handler as every other."""
    console = next(
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler, logging.StreamHandler) and isinstance(handler.formatter, TextFormatter | JsonFormatter)
    )
    written = io.StringIO()
    previous = console.setStream(written)
    try:
        logging.getLogger("django.server").info('"GET /join/%s/status HTTP/1.1" 200 15', TOKEN)
    finally:
        console.setStream(previous)
    assert TOKEN not in written.getvalue()
    assert "django.server" in written.getvalue()
    assert "/join/[redacted]/status" in written.getvalue()
