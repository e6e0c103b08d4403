"""The container image without a Docker engine: its build context (.dockerignore, read as Docker reads it, by the
same code as CI's .ci/image.py, which performs the whole build), its stages, and its HEALTHCHECK against a real
gunicorn configured as a deployment behind a real domain and TLS."""

import http.client
import importlib.util
import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support import empty_database_env, gunicorn

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("image_check", ROOT / ".ci" / "image.py")
assert _spec
assert _spec.loader
image = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(image)


def test_the_context_is_the_project_less_local_state_secrets_and_what_the_service_does_not_run() -> None:
    files = set(image.context_files(ROOT))
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for package in packages["include"]:
        assert f"{package.rstrip('*')}/__init__.py" in files, package
    assert {"manage.py", "pyproject.toml", "requirements/production.txt", "config/gunicorn.conf.py"} <= files
    assert any(name.startswith("templates/") for name in files)
    assert any(name.startswith("static/") for name in files)
    for left_out in (".git/", ".venv/", ".venv-production/", ".local/", "db.sqlite3", "staticfiles/", "tests/"):
        assert not any(name == left_out or name.startswith(left_out) for name in files), left_out
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in files)


def test_dockerignore_is_read_as_docker_reads_it(tmp_path) -> None:
    for name in ("a.pyc", "pkg/b.pyc", "pkg/__pycache__/c.py", "logs/x.log", "logs/keep.log", "docs/d.md", "e.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / ".dockerignore").write_text("# a comment\n*.pyc\n**/__pycache__\n/logs/\n!logs/keep.log\ndocs\n")
    assert image.context_files(tmp_path) == [".dockerignore", "e.py", "logs/keep.log", "pkg/b.pyc"]


def test_both_stages_take_the_project_as_a_whole_and_production_the_lock_only() -> None:
    steps = image.instructions((ROOT / "Dockerfile").read_text())
    stages: list[list[tuple[str, str]]] = []
    for instruction, arguments in steps:
        if instruction == "FROM":
            stages.append([])
        elif stages:  # an ARG before the first FROM belongs to none
            stages[-1].append((instruction, arguments))
    assert len(stages) == 2
    for stage in stages:
        assert ("COPY", ". .") in stage  # every app, whatever is added later (events/, webhooks/ were not)
    build_runs = " ".join(arguments for instruction, arguments in stages[0] if instruction == "RUN")
    assert "pip install --require-hashes -r requirements/production.txt" in build_runs
    assert "pip wheel --no-deps" in build_runs


def test_the_healthcheck_passes_behind_a_real_domain_and_https(tmp_path: Path) -> None:
    """ALLOWED_HOSTS=<a real domain> made 127.0.0.1 a 400, HTTPS=1 made plain HTTP a redirect: the old check failed
    on a healthy container."""
    healthcheck = next(arguments for instruction, arguments in image.instructions((ROOT / "Dockerfile").read_text())
                       if instruction == "HEALTHCHECK").split(" CMD ", 1)[1]  # fmt: skip
    production = {
        **empty_database_env(tmp_path),
        "DEBUG": "0",
        "HTTPS": "1",
        "ALLOWED_HOSTS": "appointments.example.com",
        "SECRET_KEY": "healthcheck-test-" + "k" * 50,
    }
    with gunicorn(production, production=True) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=90)  # the worker may still be booting
        conn.request("GET", "/health/live")
        assert conn.getresponse().status == 400  # what a probe for 127.0.0.1 gets
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=90)  # the worker may still be booting
        conn.request("GET", "/api/v1/appointments", headers={"Host": "appointments.example.com"})
        assert conn.getresponse().status == 301  # HTTPS=1 still sends plain HTTP to https elsewhere
        conn.close()

        env = {
            **os.environ,
            **production,
            "PORT": str(port),
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        }
        result = subprocess.run(  # noqa: S603 (the Dockerfile's own command)
            shlex.split(healthcheck), cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=False
        )
        assert result.returncode == 0, result.stderr

    # And it fails when nothing answers.
    result = subprocess.run(  # noqa: S603
        shlex.split(healthcheck), cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 1
    assert "/health/live" in result.stderr


@pytest.mark.parametrize("bind", ["0.0.0.0:{port}", "127.0.0.1:{port}"])
def test_the_healthcheck_asks_where_gunicorn_binds(bind, tmp_path: Path) -> None:
    with gunicorn({**empty_database_env(tmp_path), "ALLOWED_HOSTS": "appointments.example.com"}) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=90)  # once the worker has booted
        conn.request("GET", "/health/live", headers={"Host": "appointments.example.com"})
        assert conn.getresponse().status == 200
        conn.close()
        env = {**os.environ, "BIND": bind.format(port=port), "ALLOWED_HOSTS": "appointments.example.com"}
        result = subprocess.run(
            [sys.executable, "-m", "config.healthcheck"], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=30, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
