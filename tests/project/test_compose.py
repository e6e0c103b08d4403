"""compose.yaml as Docker Compose reads it (YAML with its anchors and merge keys), without a Docker engine: the
order services start in, what restarts them, how long they get to stop, what is published and believed."""

import re
import runpy
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
APP = ("migrate", "web", "worker")


def seconds(duration: str) -> int:
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert duration
    assert match, duration
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)


def test_the_image_is_built_once_and_every_app_service_runs_it() -> None:
    built = [name for name, service in SERVICES.items() if "build" in service]
    assert built == ["migrate"]
    assert len({SERVICES[name]["image"] for name in APP}) == 1
    assert all(SERVICES[name]["pull_policy"] == "never" for name in ("web", "worker"))


def test_the_web_server_and_the_worker_start_once_the_migrations_are_applied() -> None:
    assert SERVICES["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert SERVICES["migrate"]["depends_on"]["db"] == {"condition": "service_healthy"}
    for name in ("web", "worker"):
        assert SERVICES[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert SERVICES[name]["depends_on"]["db"] == {"condition": "service_healthy"}
        assert "migrate" not in " ".join(SERVICES[name].get("command", []))
    assert SERVICES["worker"]["command"] == ["python", "manage.py", "db_worker"]


def test_what_runs_for_good_is_restarted_and_what_runs_once_is_not() -> None:
    for name in ("db", "redis", "web", "worker"):
        assert SERVICES[name]["restart"] in ("always", "unless-stopped"), name
    assert SERVICES["migrate"]["restart"] == "no"


def test_every_long_running_service_has_a_health_check() -> None:
    for name in ("db", "redis", "worker"):
        check = SERVICES[name]["healthcheck"]
        assert not check.get("disable"), name
        assert check["test"][0] == "CMD", name
    assert "healthcheck" not in SERVICES["web"]  # the image's own (tests/project/test_image.py)
    assert SERVICES["worker"]["healthcheck"]["test"][2:5] == ["manage.py", "health_check", "health-ready"]


def test_a_stopping_server_gets_longer_than_gunicorn_gives_a_request() -> None:
    conf = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    for name in ("web", "worker"):
        assert seconds(SERVICES[name]["stop_grace_period"]) > conf["graceful_timeout"], name


def test_the_port_is_published_on_loopback_and_forwarded_headers_are_believed_from_loopback_only() -> None:
    assert SERVICES["web"]["ports"] == ["${PUBLISH_ADDRESS:-127.0.0.1}:8000:8000"]
    assert "ports" not in SERVICES["worker"]
    for name in APP:
        assert SERVICES[name]["environment"]["FORWARDED_ALLOW_IPS"] == "${FORWARDED_ALLOW_IPS:-127.0.0.1}"
