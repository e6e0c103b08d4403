"""What an error mails to ADMINS: one mail per error, and no credential (settings, URLs with passwords, the request's
environment) and no claimant's private link in it (issue 18, items 5 and 18)."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils.log import configure_logging

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
