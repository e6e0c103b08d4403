"""What an operator relies on: health endpoints, a request id on every response and log line, JSON logs,
errors to ADMINS, and the settings that pick the cache and the database connections."""

import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def settings_in_a_new_process(**env: str) -> dict:
    """config.settings as a fresh process reads it from the environment."""
    code = (
        "import json, django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup();"
        "from django.conf import settings as s;"
        "print(json.dumps({'cache': s.CACHES['default']['BACKEND'], 'admins': s.ADMINS,"
        " 'handlers': s.LOGGING['root']['handlers'], 'format': s.LOGGING['handlers']['console']['formatter'],"
        " 'email': s.EMAIL_BACKEND,"
        " 'db': {k: v for k, v in s.DATABASES['default'].items() if k in ('CONN_MAX_AGE', 'OPTIONS')}}))"
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env={**os.environ, **env}, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.django_db
def test_live_needs_nothing_and_ready_checks_the_database_and_migrations(client) -> None:
    live = client.get("/health/live", HTTP_ACCEPT="application/json")
    assert live.status_code == 200
    ready = client.get("/health/ready", HTTP_ACCEPT="application/json")
    assert ready.status_code == 200, ready.content
    checks = ready.json()
    assert any(name.startswith("Database") for name in checks)
    assert any(name.startswith("MigrationsApplied") for name in checks)
    assert "no-cache" in ready["Cache-Control"]


@pytest.mark.django_db(transaction=True)  # the checks run in threads, on connections of their own
def test_ready_fails_while_a_migration_is_not_applied(client) -> None:
    latest = MigrationRecorder.Migration.objects.filter(app="meetings").order_by("-id").first()
    assert latest is not None
    app, name = latest.app, latest.name
    latest.delete()
    try:
        response = client.get("/health/ready", HTTP_ACCEPT="application/json")
    finally:
        MigrationRecorder.Migration.objects.create(app=app, name=name)  # the table is not flushed between tests
    assert response.status_code == 500
    assert "not applied" in json.dumps(response.json())


@pytest.mark.django_db
def test_every_response_carries_a_request_id_and_keeps_the_proxys(client, caplog) -> None:
    generated = client.get("/api/v1/appointments")
    assert uuid.UUID(generated["X-Request-ID"])
    given = str(uuid.uuid4())
    with caplog.at_level(logging.WARNING):
        echoed = Client().get("/api/v1/appointments", HTTP_X_REQUEST_ID=given)
    assert echoed["X-Request-ID"] == given
    assert any(getattr(r, "request_id", None) == given for r in caplog.records)  # the 401's log line


def test_json_logs_have_a_timestamp_and_the_request_id() -> None:
    from config.logs import JsonFormatter

    record = logging.LogRecord("appointments", logging.WARNING, __file__, 1, "hello %s", ("there",), None)
    record.request_id = "abc"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello there"
    assert line["request_id"] == "abc"
    assert line["level"] == "WARNING"
    assert line["logger"] == "appointments"
    assert line["timestamp"].endswith("Z")


def test_the_environment_picks_logs_mail_cache_and_connections() -> None:
    plain = settings_in_a_new_process()
    assert plain["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert plain["admins"] == []
    assert plain["handlers"] == ["console", "mail_admins"]  # the mail handler sends nothing without ADMINS
    assert plain["format"] == "text"
    production = settings_in_a_new_process(
        REDIS_URL="redis://redis.invalid:6379/3",  # read, never connected to
        ADMINS="Ops <ops@example.com>,Dev <dev@example.com>",
        LOG_FORMAT="json",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/appointments",
        DB_POOL="1",
    )
    assert production["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert production["admins"] == [["Ops", "ops@example.com"], ["Dev", "dev@example.com"]]
    assert production["handlers"] == ["console", "mail_admins"]
    assert production["format"] == "json"
    assert production["db"]["CONN_MAX_AGE"] == 0
    assert production["db"]["OPTIONS"]["pool"]["max_size"] == 4


def test_a_malformed_log_format_stops_the_start_up() -> None:
    code = "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup()"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "LOG_FORMAT": "yaml"},
        check=False,
    )
    assert result.returncode != 0
    assert "LOG_FORMAT must be text or json" in result.stderr


@pytest.mark.parametrize(("debug", "backend"), [("1", "console"), ("0", "smtp")])
def test_the_claimants_emails_are_printed_only_in_development(monkeypatch, debug: str, backend: str) -> None:
    """A production left without mail settings must not print claimants' private links into its logs."""
    monkeypatch.delenv("EMAIL_BACKEND", raising=False)
    assert settings_in_a_new_process(DEBUG=debug)["email"] == f"django.core.mail.backends.{backend}.EmailBackend"
