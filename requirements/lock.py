"""The locks: every package the service installs, pinned with hashes, for Python 3.11 to 3.13 on any platform.

    production.txt  the runtime dependencies of pyproject.toml (the image, `make serve`)
    dev.txt         those and the `dev` extra (`make run`, `make test`, CI), production's pins kept

`make lock` (this script) compiles them with uv, keeping the pins they have wherever pyproject.toml still allows
them; `make lock UPGRADE=1` moves every pin to the newest release allowed. `--check` (CI) compiles into a copy and
fails when a pin would change: pyproject.toml was edited without `make lock`. A check that cannot reach the
package index says so and passes, so a machine without a network can still run CI.
"""

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "requirements"
# Each lock: its file and what it adds to the compile command. dev.txt is compiled after, within production's pins.
COMPILES: list[tuple[str, list[str]]] = [
    ("production.txt", []),
    ("dev.txt", ["--extra", "dev", "--constraint", "{dir}/production.txt"]),
]
# A requirement line of a lock: `name==version` and its environment marker, without the hashes.
PIN = re.compile(r"^([A-Za-z0-9._-]+==[^\s;\\]+)(\s*;\s*[^\\]+?)?\s*\\?$")
OFFLINE = ("failed to fetch", "error sending request", "dns error", "connection refused", "timed out", "network")


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if not found:
        raise SystemExit("uv is not installed: it is in the dev extra (make venv), or pip install uv")
    return found


def compile_locks(directory: Path, *, upgrade: bool = False) -> None:
    """Write the locks into `directory`, keeping the pins of the locks already there."""
    for name, extra in COMPILES:
        command = [
            uv(), "pip", "compile", str(ROOT / "pyproject.toml"), "--universal", "--python-version", "3.11",
            "--generate-hashes", "--quiet", "--custom-compile-command", "make lock",
            "--output-file", str(directory / name),
            *[part.format(dir=directory) for part in extra],
        ]  # fmt: skip
        if upgrade:
            command.append("--upgrade")
        subprocess.run(command, check=True, cwd=ROOT, env={**os.environ, "UV_NO_CONFIG": "1"}, capture_output=True)  # noqa: S603


def pins(path: Path) -> list[str]:
    """The lock's requirements, one `name==version ; marker` each: what installs, without the hashes."""
    found = []
    for line in path.read_text().splitlines():
        if match := PIN.match(line):
            found.append(match.group(1).lower() + (f" ;{match.group(2).split(';', 1)[1]}" if match.group(2) else ""))
    return found


def check() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        for name, _ in COMPILES:
            shutil.copy(LOCKS / name, directory / name)
        try:
            compile_locks(directory)
        except subprocess.CalledProcessError as error:
            said = (error.stderr or b"").decode(errors="replace")
            if any(word in said.lower() for word in OFFLINE):
                print(f"The locks were not checked: the package index cannot be reached.\n{said.strip()}")
                return 0
            print(said, file=sys.stderr)
            return 1
        stale = 0
        for name, _ in COMPILES:
            before, after = pins(LOCKS / name), pins(directory / name)
            if before != after:
                stale += 1
                print(f"requirements/{name} is not what pyproject.toml asks for; run `make lock`:", file=sys.stderr)
                sys.stderr.writelines(line + "\n" for line in difflib.unified_diff(before, after, lineterm="", n=0))
        if not stale:
            print("The locks are current.")
        return 1 if stale else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail when a lock is not current; change nothing")
    parser.add_argument("--upgrade", action="store_true", help="every pin to the newest release allowed")
    arguments = parser.parse_args()
    if arguments.check:
        return check()
    compile_locks(LOCKS, upgrade=arguments.upgrade)
    return 0


if __name__ == "__main__":
    sys.exit(main())
