"""What installs where: production (the image, `make serve`) only the runtime dependencies, development and CI those
and the tools, each from a lock pinned with hashes that CI keeps current with pyproject.toml."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DEV_TOOLS = {"pytest", "pytest-django", "playwright", "ruff", "mypy", "schemathesis", "honcho", "uv", "factory-boy"}


def name(requirement: str) -> str:
    """A requirement's project name, normalised as PyPI does."""
    found = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert found, requirement
    return re.sub(r"[-_.]+", "-", found.group(0)).lower()


def pinned(lock: str) -> dict[str, list[str]]:
    """Each requirement of a lock and its hashes (several lines where the pin differs by environment marker)."""
    found: dict[str, list[str]] = {}
    current = ""
    for line in (LOCKS / lock).read_text().splitlines():
        if re.match(r"[A-Za-z0-9]", line):
            assert "==" in line.split(";")[0], f"{lock}: not pinned: {line}"
            current = line.split(" ;")[0].split(" \\")[0].strip()
            found.setdefault(current, [])
        elif line.strip().startswith("--hash=sha256:"):
            found[current].append(line.strip())
    return found


def test_production_installs_the_runtime_dependencies_only_each_pinned_with_hashes() -> None:
    lock = pinned("production.txt")
    assert lock
    assert all(hashes for hashes in lock.values()), [pin for pin, hashes in lock.items() if not hashes]
    names = {name(pin) for pin in lock}
    assert {name(requirement) for requirement in PYPROJECT["project"]["dependencies"]} <= names
    assert not names & DEV_TOOLS
    assert not names & {name(requirement) for requirement in PYPROJECT["project"]["optional-dependencies"]["dev"]}


def test_development_installs_the_tools_with_productions_pins() -> None:
    production, dev = pinned("production.txt"), pinned("dev.txt")
    assert all(hashes for hashes in dev.values())
    assert {name(pin) for pin in dev} >= DEV_TOOLS
    assert set(production) <= set(dev)  # the same versions: the tests run what production runs


def test_make_serve_and_the_image_install_from_the_production_lock_with_hashes(tmp_path) -> None:
    dry_run = subprocess.run(  # noqa: S603
        ["make", "-n", "-B", "serve", f"SERVE_VENV={tmp_path}/venv"],  # noqa: S607 (make from PATH, as a user runs it)
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    installs = [line for line in dry_run.stdout.splitlines() if "pip install" in line]
    assert installs == [
        f"{tmp_path}/venv/bin/pip install --quiet --disable-pip-version-check --require-hashes "
        "-r requirements/production.txt"
    ]
    assert "[dev]" not in dry_run.stdout
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes -r requirements/production.txt" in dockerfile
    assert "[dev]" not in dockerfile


def test_a_lock_that_pyproject_toml_has_left_behind_fails_the_check(tmp_path) -> None:
    """CI's check, on a copy: current as committed; stale once pyproject.toml asks for more. Offline it passes,
    saying it could not check."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copytree(LOCKS, tmp_path / "requirements", ignore=shutil.ignore_patterns("__pycache__"))
    script = [sys.executable, str(tmp_path / "requirements" / "lock.py"), "--check"]

    current = subprocess.run(script, capture_output=True, text=True, check=False, timeout=300)  # noqa: S603
    if "cannot be reached" in current.stdout:
        pytest.skip("the package index cannot be reached: " + current.stdout)
    assert current.returncode == 0, current.stderr
    assert "The locks are current." in current.stdout

    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("dependencies = [\n", 'dependencies = [\n    "six>=1.16",\n', 1))
    stale = subprocess.run(script, capture_output=True, text=True, check=False, timeout=300)  # noqa: S603
    assert stale.returncode == 1
    assert "requirements/production.txt is not what pyproject.toml asks for; run `make lock`" in stale.stderr
    assert "+six==" in stale.stderr
    assert (tmp_path / "requirements" / "production.txt").read_bytes() == (LOCKS / "production.txt").read_bytes()
