"""Modules a reader can hold (issue 19.6): no application module over 400 lines. Migrations, tests, the
benchmarks and the CI's scripts aside. A module that grows past it is split by what it does, as the services
(per action), the admin (a package) and the settings (a package) were."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 400
NOT_APPLICATION = ("tests/", "bench/", ".ci/", "requirements/")


def application_modules() -> list[Path]:
    tracked = subprocess.run(  # noqa: S603 (git with fixed arguments)
        [shutil.which("git") or "git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in tracked if not name.startswith(NOT_APPLICATION) and "/migrations/" not in name]


def test_no_application_module_is_over_400_lines() -> None:
    modules = application_modules()
    assert len(modules) > 100  # the listing found the apps (a git that failed would find none, and pass)
    too_long = {str(path.relative_to(ROOT)): n for path in modules if (n := len(path.read_text().splitlines())) > LIMIT}
    assert too_long == {}, f"split these by what they do (docs/layout.md): {too_long}"
