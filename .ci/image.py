"""The container image's steps, performed without a Docker engine (CI has none): the Dockerfile read and done.

The build context is the project less what .dockerignore leaves out, copied file by file as Docker sends it. Each
stage gets a folder of its own that stands for its filesystem: the image's own top-level directories (IMAGE_DIRS:
/app, /venv ...) live there, written in COPY, WORKDIR, ENV and RUN as the Dockerfile writes them. Every RUN runs,
with the stage's ENV, the chosen Python standing in for the base image's `python`. Then, on the last stage: the
deploy check of its settings, `migrate` on DATABASE_URL (as compose's web service does), its CMD (gunicorn) with
production settings, `/health/ready` through it and the image's HEALTHCHECK command. Everything is removed at the
end, whatever happened.

What a container does that a folder cannot is said and left out: creating the user and handing files to it
(NEEDS_A_CONTAINER), running as that user (USER). Instructions it does not know stop it, so a Dockerfile that
outgrows it is noticed. Usage: .ci/image.py [--python python3.13] [--keep DIR]
"""

import argparse
import contextlib
import http.client
import json
import os
import posixpath
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The image's own top-level directories; in the check they live under each stage's folder.
IMAGE_DIRS = ("/app", "/venv", "/src", "/wheels")
# Steps about the user the container runs as: not for a check that runs as whoever runs CI.
NEEDS_A_CONTAINER = ("useradd", "chown")
# The image keeps no pip cache; the check may use the machine's, so that CI downloads each package once.
NOT_APPLIED = ("PIP_NO_CACHE_DIR",)
# From the machine into every step, as `docker build` passes proxies: how this machine reaches the package index.
PASSED = re.compile(r"^(PIP_.*|(HTTPS?|NO|ALL)_PROXY|(https?|no|all)_proxy|SSL_CERT_(FILE|DIR)|HOME|LANG)$")
# The deployment the check stands for: a real domain behind TLS.
PRODUCTION = {"DEBUG": "0", "HTTPS": "1", "ALLOWED_HOSTS": "appointments.example.com", "SMS_BACKEND": "none"}


class ImageError(Exception):
    pass


# .dockerignore, as Docker reads it: a pattern per line from the context's root (`/` at either end ignored),
# `*` and `?` within one path segment, `**` across any number, `!` to take back; the last pattern that matches a
# path or one of its folders decides.


def pattern(text: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(text):
        if text.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif text.startswith("**", i):
            out, i = out + ".*", i + 2
        elif text[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif text[i] == "?":
            out, i = out + "[^/]", i + 1
        elif text[i] == "[" and "]" in text[i + 1 :]:
            end = text.index("]", i + 1)
            body = text[i + 1 : end]
            out, i = out + "[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]", end + 1
        else:
            out, i = out + re.escape(text[i]), i + 1
    return re.compile(out)


def ignore_rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        cleaned = posixpath.normpath(line.lstrip("!").strip()).strip("/")
        rules.append((negated, pattern(cleaned)))
    return rules


def ignored(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    result = False
    for negated, rule in rules:
        if any(rule.fullmatch(prefix) for prefix in prefixes):
            result = not negated
    return result


def context_files(root: Path) -> list[str]:
    """The build context: every file under `root` that .dockerignore keeps, as paths relative to it."""
    source = root / ".dockerignore"
    rules = ignore_rules(source.read_text() if source.exists() else "")
    can_take_back = any(negated for negated, _ in rules)
    kept = []
    for folder, folders, files in os.walk(root):
        relative = Path(folder).relative_to(root).as_posix()
        prefix = "" if relative == "." else relative + "/"
        if not can_take_back:  # a folder left out is not walked (.venv, .git)
            folders[:] = [name for name in folders if not ignored(prefix + name, rules)]
        kept += [prefix + name for name in files if not ignored(prefix + name, rules)]
        kept += [prefix + name for name in folders if Path(folder, name).is_symlink()]
    return sorted(kept)


def copy_context(root: Path, destination: Path) -> list[str]:
    files = context_files(root)
    for name in files:
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target, follow_symlinks=False)
    return files


# The Dockerfile.


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, its arguments), continuation lines joined and comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        if line.strip().startswith("#") or (not line.strip() and not pending):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        if whole:
            word, _, rest = whole.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def expand(text: str, variables: dict[str, str]) -> str:
    return re.sub(
        r"\$\{(\w+)\}|\$(\w+)", lambda m: variables.get(m.group(1) or m.group(2), ""), text
    )  # fmt: skip


@dataclass
class Stage:
    name: str
    root: Path
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"

    def path(self, image_path: str) -> Path:
        """Where a path of the image lives in this stage's folder."""
        absolute = posixpath.normpath(posixpath.join(self.workdir, image_path))
        if not any(absolute == top or absolute.startswith(top + "/") for top in IMAGE_DIRS):
            raise ImageError(f"{image_path} is outside the image's own directories {IMAGE_DIRS}: add it there")
        return self.root / absolute.lstrip("/")

    def mapped(self, text: str) -> str:
        """A command or value with the image's paths written as this stage's folder."""
        tops = "|".join(re.escape(top) for top in IMAGE_DIRS)
        return re.sub(rf"(?<![\w./-])({tops})(?=/|\s|$|[\"':;])", lambda m: str(self.root) + m.group(1), text)


@dataclass
class Image:
    stages: list[Stage]
    healthcheck: str
    cmd: list[str]

    @property
    def final(self) -> Stage:
        return self.stages[-1]


def say(line: str) -> None:
    print(line, flush=True)


def step_env(stage: Stage, shim: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if PASSED.match(key)}
    env["PATH"] = f"{shim}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    for key, value in stage.env.items():
        if key not in NOT_APPLIED:
            env[key] = value
    return env


def run_step(stage: Stage, command: str, shim: Path) -> None:
    kept = []
    for part in command.split("&&"):
        words = [word for word in shlex.split(part) if not re.match(r"^\w+=", word)]
        if words and words[0] in NEEDS_A_CONTAINER:
            say(f"   (needs a container, left out: {part.strip()})")
        else:
            kept.append(part.strip())
    if not kept:
        return
    line = " && ".join(kept)
    say(f"   $ {line}")
    cwd = stage.path(stage.workdir) if stage.workdir != "/" else stage.root
    cwd.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603 (the Dockerfile's own command)
        ["/bin/sh", "-c", stage.mapped(line)], cwd=cwd, env=step_env(stage, shim), check=False,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    if result.returncode:
        print(result.stdout[-6000:], flush=True)
        raise ImageError(f"RUN {line} failed with {result.returncode}")
    say(f"     done in {time.monotonic() - started:.0f} s")


def copy_step(stage: Stage, arguments: str, context: Path, stages: dict[str, Stage]) -> None:
    words = shlex.split(arguments)
    if words and words[0].startswith("["):
        raise ImageError(f"COPY in JSON form is not read here: {arguments}")
    source_stage = None
    while words and words[0].startswith("--"):
        option = words.pop(0)
        if option.startswith("--from="):
            source_stage = stages[option.split("=", 1)[1]]
        elif not option.startswith("--chown="):  # ownership needs a container
            raise ImageError(f"COPY {option} is not read here")
    *sources, destination = words
    target = stage.path(destination)
    for source in sources:
        origin = source_stage.path(source) if source_stage else context / posixpath.normpath(source)
        if not origin.exists():
            raise ImageError(f"COPY {source}: not in the {'stage ' + source_stage.name if source_stage else 'context'}")
        if origin.is_dir():
            shutil.copytree(origin, target, symlinks=True, dirs_exist_ok=True)
        else:
            into = target / origin.name if destination.endswith("/") or target.is_dir() else target
            into.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, into, follow_symlinks=False)
    say(f"   COPY {arguments}")


def build(dockerfile: Path, context: Path, work: Path, python: str) -> Image:
    shim = work / "base-image-bin"
    shim.mkdir()
    for name in ("python", "python3"):
        (shim / name).symlink_to(shutil.which(python) or python)
    variables: dict[str, str] = {}
    stages: dict[str, Stage] = {}
    order: list[Stage] = []
    healthcheck, cmd = "", []
    for instruction, arguments in instructions(dockerfile.read_text()):
        stage = order[-1] if order else None
        say(f"{instruction} {arguments}" if instruction in ("FROM", "WORKDIR", "USER") else f"{instruction} ...")
        if instruction == "ARG":
            key, _, default = arguments.partition("=")
            variables.setdefault(key.strip(), default.strip())
        elif instruction == "FROM":
            words = arguments.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else str(len(order))
            stage = Stage(name, work / f"stage-{len(order)}")
            stage.root.mkdir()
            stages[name] = stage
            order.append(stage)
        elif stage is None:
            raise ImageError(f"{instruction} before FROM")
        elif instruction == "ENV":
            for item in shlex.split(arguments):
                key, _, value = item.partition("=")
                base = {"PATH": f"{shim}:{os.environ.get('PATH', '')}", **stage.env}
                stage.env[key] = stage.mapped(expand(value, base))
        elif instruction == "WORKDIR":
            stage.workdir = posixpath.join(stage.workdir, arguments)
            stage.path(stage.workdir).mkdir(parents=True, exist_ok=True)
        elif instruction == "COPY":
            copy_step(stage, arguments, context, stages)
        elif instruction == "RUN":
            run_step(stage, arguments, shim)
        elif instruction == "HEALTHCHECK":
            healthcheck = arguments.split(" CMD ", 1)[1] if " CMD " in arguments else ""
        elif instruction == "CMD":
            cmd = json.loads(arguments)
        elif instruction in ("USER", "EXPOSE", "LABEL"):
            say(f"   ({instruction} needs a container: the check runs as {os.getuid()})")
        else:
            raise ImageError(f"{instruction} is not read here: teach .ci/image.py, or write the Dockerfile another way")
    if not order or not cmd:
        raise ImageError("no stage, or no CMD")
    return Image(order, healthcheck, cmd)


# The built image at work.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_env(image: Image, shim: Path, extra: dict[str, str]) -> dict[str, str]:
    return {**step_env(image.final, shim), **PRODUCTION, **extra}


def manage(image: Image, env: dict[str, str], *arguments: str) -> None:
    say(f"   $ python manage.py {' '.join(arguments)}")
    stage = image.final
    result = subprocess.run(  # noqa: S603 (the image's own command, its `python` on the image's PATH)
        ["python", "manage.py", *arguments],  # noqa: S607
        cwd=stage.path(stage.workdir), env=env, check=False,
    )  # fmt: skip
    if result.returncode:
        raise ImageError(f"manage.py {' '.join(arguments)} failed with {result.returncode}")


@contextlib.contextmanager
def serving(image: Image, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    stage = image.final
    command = [stage.mapped(word) for word in image.cmd]
    say(f"   $ {' '.join(image.cmd)}  (on {env['PORT']})")
    process = subprocess.Popen(command, cwd=stage.path(stage.workdir), env=env)  # noqa: S603 (the image's CMD)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def ready(port: int, host: str, process: subprocess.Popen[bytes], seconds: float = 60) -> tuple[int, bytes]:
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise ImageError(f"the server exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health/ready", headers={"Host": host, "X-Forwarded-Proto": "https"})
            response = conn.getresponse()
            return response.status, response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise ImageError(f"nothing answered on {port} within {seconds} s") from None
            time.sleep(0.5)


def check(python: str, work: Path) -> None:
    database = os.environ.get("DATABASE_URL", "")
    if not database.startswith("postgres"):
        raise ImageError("needs DATABASE_URL: a PostgreSQL database the image's migrate may use (.ci/run makes one)")
    started = time.monotonic()
    context = work / "context"
    files = copy_context(ROOT, context)
    say(f"== The build context: {len(files)} files (.dockerignore kept out the rest)")
    image = build(context / "Dockerfile", context, work, python)
    shim = work / "base-image-bin"
    port = free_port()
    env = run_env(
        image, shim,
        {"SECRET_KEY": secrets.token_urlsafe(64), "DATABASE_URL": database, "PORT": str(port),
         "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"},
    )  # fmt: skip
    say("== Its settings for production")
    manage(image, env, "check", "--deploy", "--fail-level", "WARNING")
    say("== Its migrations, then its server")
    manage(image, env, "migrate", "--noinput", "-v", "0")
    with serving(image, env) as process:
        status, body = ready(port, PRODUCTION["ALLOWED_HOSTS"], process)
        say(f"   GET /health/ready: {status} {body[:200]!r}")
        if status != 200:
            raise ImageError(f"/health/ready answered {status}")
        if image.healthcheck:
            say(f"   HEALTHCHECK {image.healthcheck}")
            stage = image.final
            result = subprocess.run(  # noqa: S603 (the image's own health check)
                ["/bin/sh", "-c", stage.mapped(image.healthcheck)], cwd=stage.path(stage.workdir), env=env,
                check=False, timeout=10,
            )  # fmt: skip
            if result.returncode:
                raise ImageError(f"the image's HEALTHCHECK failed with {result.returncode}")
    say(f"== The image's steps passed in {time.monotonic() - started:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=sys.executable, help="the base image's Python (default: this one)")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it (default: a temporary one)")
    arguments = parser.parse_args()
    try:
        if arguments.keep:
            arguments.keep.mkdir(parents=True)
            check(arguments.python, arguments.keep.resolve())
        else:
            with tempfile.TemporaryDirectory(prefix="image-check-") as work:
                check(arguments.python, Path(work))
    except ImageError as error:
        print(f"The image's steps failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
