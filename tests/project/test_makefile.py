"""`make venv` on a machine as it is: a virtual environment that another interpreter made, or a broken one, is made
again by the interpreter asked for; one that is right is kept. Run on a small project beside a copy of the
Makefile (the real locks take minutes to install)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYENV = Path.home() / ".pyenv" / "versions"


def identity(python: Path | str) -> str:
    return subprocess.run(  # noqa: S603
        [str(python), "-c", "import sys; print(sys.base_prefix, *sys.version_info[:2])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def other_python() -> str:
    """A Python 3.11 to 3.13 other than this one (another version, or the same version installed elsewhere)."""
    candidates = [shutil.which(f"python3.{minor}") for minor in (11, 12, 13)] + ["/usr/bin/python3.11"]
    candidates += [str(path) for path in sorted(PYENV.glob("3.1[123].*/bin/python3"))]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            try:
                if identity(candidate) != identity(sys.executable):
                    return candidate
            except subprocess.CalledProcessError:
                continue
    pytest.skip("needs a second Python 3.11 to 3.13 on this machine")


# A project that pip installs in a moment, without the network: a build backend of its own that writes the wheel.
BACKEND = """
import base64, hashlib, zipfile

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = {
        "tiny-0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: tiny\\nVersion: 0\\n",
        "tiny-0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: tiny\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    record = "".join(
        f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()},"
        f"{len(text.encode())}\\n"
        for path, text in files.items()
    )
    with zipfile.ZipFile(f"{wheel_directory}/tiny-0-py3-none-any.whl", "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
        archive.writestr("tiny-0.dist-info/RECORD", record + "tiny-0.dist-info/RECORD,,\\n")
    return "tiny-0-py3-none-any.whl"

build_editable = build_wheel
"""


@pytest.fixture
def project(tmp_path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n\n'
        '[project]\nname = "tiny"\nversion = "0"\nrequires-python = ">=3.11,<3.14"\n'
    )
    (tmp_path / "backend.py").write_text(BACKEND)
    (tmp_path / "requirements").mkdir()
    for lock in ("dev.txt", "production.txt"):
        (tmp_path / "requirements" / lock).write_text("")
    return tmp_path


def make(project: Path, python: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603
        ["make", "venv", f"PYTHON={python}"],  # noqa: S607 (make from PATH, as a user runs it)
        cwd=project, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_a_venv_made_by_another_python_or_broken_is_made_again_and_a_right_one_kept(project) -> None:
    venv = project / ".venv"
    other = other_python()
    make(project, other)
    assert identity(venv / "bin" / "python") == identity(other)

    again = make(project, sys.executable)
    assert "made by another Python or is broken" in again.stdout
    assert identity(venv / "bin" / "python") == identity(sys.executable)

    stamp = (venv / ".installed").stat().st_mtime_ns
    kept = make(project, sys.executable)
    assert "Nothing to be done" in kept.stdout or "is up to date" in kept.stdout, kept.stdout
    assert (venv / ".installed").stat().st_mtime_ns == stamp

    # What a `python -m venv` that failed half-way leaves (no pip: ensurepip missing), even one that once finished.
    shutil.rmtree(venv)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)  # noqa: S603
    (venv / ".installed").touch()
    rebuilt = make(project, sys.executable)
    assert "made by another Python or is broken" in rebuilt.stdout
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "--version"], check=True, capture_output=True)  # noqa: S603


def test_a_python_outside_3_11_to_3_13_is_refused_with_what_to_do(project) -> None:
    older = next((str(path) for path in sorted(PYENV.glob("3.10.*/bin/python3"))), shutil.which("python3.10"))
    if not older:
        pytest.skip("needs a Python 3.10 to refuse")
    result = subprocess.run(  # noqa: S603
        ["make", "venv", f"PYTHON={older}"], cwd=project, capture_output=True, text=True, timeout=60, check=False,  # noqa: S607
    )  # fmt: skip
    assert result.returncode != 0
    assert "is not Python 3.11, 3.12 or 3.13" in result.stdout
    assert not (project / ".venv").exists()


def test_make_run_on_another_port_writes_links_to_that_port(tmp_path: Path) -> None:
    """`make run PORT=8093` gives the service PUBLIC_BASE_URL on that port unless one is set, so the participants'
    links, the API's `url` and the emails point where it runs (a walk that started the server without make saw
    them point to port 8000, the settings' default). Its commands are stubs here that note what they were given
    (`-o`: the virtual environment and messages as they are)."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    stubs = tmp_path / ".venv" / "bin"
    stubs.mkdir(parents=True)
    for name in ("python", "honcho"):
        (stubs / name).write_text('#!/bin/sh\necho "$* | $PUBLIC_BASE_URL" >> calls.txt\n')
        (stubs / name).chmod(0o755)

    def run(**env: str) -> list[str]:
        (tmp_path / "calls.txt").unlink(missing_ok=True)
        base = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "MAKEFLAGS", "MAKELEVEL")}
        subprocess.run(
            ["make", "-s", "run", "PORT=8093", "-o", "venv", "-o", "messages"],  # noqa: S607
            cwd=tmp_path, env={**base, **env}, capture_output=True, check=True,
        )  # fmt: skip
        return [
            line for line in (tmp_path / "calls.txt").read_text().splitlines() if "manage.py" in line or "start" in line
        ]

    calls = run()
    assert [call.split(" | ")[1] for call in calls] == ["http://127.0.0.1:8093"] * 3  # migrate, demo_session, honcho
    assert "demo_session --port 8093" in calls[1]
    assert {call.split(" | ")[1] for call in run(PUBLIC_BASE_URL="https://appointments.example")} == {
        "https://appointments.example"
    }
