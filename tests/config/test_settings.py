"""The settings helpers fail loudly on malformed values instead of quietly meaning "off"."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings.env import env_bool, env_int, env_list, env_url
from tests.support import free_port


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("true", True), ("ON", True), ("0", False), ("no", False)])
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", not expected) is expected


@pytest.mark.parametrize("raw", ["maybe", "2", "yes please"])
def test_env_bool_refuses_anything_else(monkeypatch, raw: str) -> None:
    monkeypatch.setenv("X_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG", False)


def test_env_int_and_defaults(monkeypatch) -> None:
    monkeypatch.delenv("X_INT", raising=False)
    assert env_int("X_INT", 7) == 7
    monkeypatch.setenv("X_INT", "12")
    assert env_int("X_INT", 7) == 12
    monkeypatch.setenv("X_INT", "12s")
    with pytest.raises(ImproperlyConfigured, match="X_INT"):
        env_int("X_INT", 7)


def test_env_list_and_url(monkeypatch) -> None:
    monkeypatch.setenv("X_LIST", " a.example.com, ,b.example.com ")
    assert env_list("X_LIST", []) == ["a.example.com", "b.example.com"]
    monkeypatch.setenv("X_URL", "https://video.example.com/")
    assert env_url("X_URL", "https://meet.jit.si") == "https://video.example.com"
    monkeypatch.setenv("X_URL", "video.example.com")
    with pytest.raises(ImproperlyConfigured, match="X_URL"):
        env_url("X_URL", "https://meet.jit.si")


ROOT = Path(__file__).resolve().parents[2]
HOW_TO_MAKE_ONE = "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"


def environment(**env: str) -> dict[str, str]:
    """This process's environment without a SECRET_KEY or DEBUG, with `env` over it."""
    return {**{k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}, **env}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "manage.py", *args], capture_output=True, text=True, cwd=ROOT, env=environment(**env),
        timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("secret_key", [None, "", "   "])
def test_the_task_worker_without_a_secret_key_stops_at_start_up_saying_how_to_make_one(
    secret_key: str | None,
) -> None:
    env = {"DEBUG": "0"} if secret_key is None else {"DEBUG": "0", "SECRET_KEY": secret_key}
    result = manage("db_worker", "--batch", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr
    assert HOW_TO_MAKE_ONE in result.stderr


def test_gunicorn_without_a_secret_key_does_not_serve(tmp_path: Path) -> None:
    """The production server (DEBUG is off unless asked) stops instead of serving with a key of its own."""
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        process = subprocess.run(  # noqa: S603 (our own server, arguments we build)
            [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi", "-c", "config/gunicorn.conf.py",
             "--workers", "1", "--bind", f"127.0.0.1:{free_port()}"],
            cwd=ROOT, env=environment(), stdout=output, stderr=output, timeout=60, check=False,
        )  # fmt: skip
    assert process.returncode != 0
    assert "SECRET_KEY is not set" in log.read_text()
    assert HOW_TO_MAKE_ONE in log.read_text()


@pytest.mark.parametrize("entry_point", ["config.wsgi", "config.asgi"])
def test_the_web_entry_points_without_a_secret_key_refuse_to_load(entry_point: str) -> None:
    """What any WSGI or ASGI server (and runserver, through WSGI_APPLICATION) loads first."""
    result = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", f"import {entry_point}"], capture_output=True, text=True, cwd=ROOT,
        env=environment(DEBUG="0"), timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr
    assert HOW_TO_MAKE_ONE in result.stderr


def test_without_a_secret_key_nothing_is_made_up_and_nothing_signs() -> None:
    """Tools that only read the code run without a key; anything that would sign with one refuses."""
    code = "from django.core import signing; signing.dumps('x')"
    result = manage("shell", "-c", code, DEBUG="0")
    assert result.returncode != 0
    assert "The SECRET_KEY setting must not be empty" in result.stderr
    assert manage("makemigrations", "--check", "--dry-run", DEBUG="0").returncode == 0


def test_a_given_secret_key_is_used_and_development_keeps_its_own_key() -> None:
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    given = manage("shell", "-c", code, DEBUG="0", SECRET_KEY="k" * 10 + "ey-given-by-the-operator")
    assert given.returncode == 0, given.stderr
    assert given.stdout.strip().splitlines()[-1] == "kkkkkkkkkkey-given-by-the-operator"
    development = manage("shell", "-c", code, DEBUG="1")
    assert development.returncode == 0, development.stderr
    assert development.stdout.strip().splitlines()[-1] == (ROOT / ".local" / "secret_key").read_text().strip()
