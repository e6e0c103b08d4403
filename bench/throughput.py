"""PATCH throughput over gunicorn against the database's own rate for the same statements, in one run. By hand:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/appointments .venv/bin/python bench/throughput.py --seconds 10

(with REDIS_URL=redis://... too, the servers count the rate limit in Redis, as production does).

Needs `pgbench` (Debian: `apt-get install postgresql-client`, /usr/bin/pgbench) and `wrk` (Debian: `apt-get install
wrk`); it says so and stops if either is missing. In one run, on a throwaway database it builds and drops:

1. Fills it as bench/floor.py does (one department, a member with a token, `--appointments` appointments, each a
   claimant with a data value), then numbers each appointment's rows (appointment, claimant, data value, meeting)
   from its index, so a pgbench script can name the n-th appointment's rows from one random variable.
2. Captures the statements the API's PATCH sends (time, duration, phone and a data value, all changed: the
   Bearer lookup, then BEGIN, the lock, the updates, the history copies, the ledger's head and entries, the
   events, the outbox's task, COMMIT) and writes them as a pgbench script: the values as the API bound them, the
   appointment's rows chosen at random per transaction, the ledger's sequence from the head the script read, new
   ids drawn by the database. pgbench runs it with 8 clients as the API sends it (`-M simple`, values inline) once,
   and prepared (`-M prepared`, the database's best case: the ceiling each ratio is taken against) just before
   each configuration's wrk runs, so each ratio compares figures taken at about the same load.
3. For each configuration of the server (gunicorn's sync and gthread workers, persistent connections with and
   without their health check, psycopg's pool, a new connection per request, and the served default:
   config/gunicorn.conf.py's own), starts gunicorn with config/gunicorn.conf.py (as production runs it, its access
   log included; REDIS_URL, if given, as the rate limit's shared cache) serving the API and the lean floor of
   bench/floor.py, warms it up until every worker answers, and drives PATCH with wrk (2 threads, 8 connections,
   `--seconds` each; a Lua script rotating the appointments and flipping every value, with the token), the API
   then the floor.

It prints each configuration's PATCHes a second, p50 and p99 (wrk's), the ratio to pgbench's prepared rate, the
API's p99 against the floor's in the same server, and the server's processor time a request (its processes' user
and system time over the run, divided by the requests: the figure the machine's load moves least); then the
configurations from the worst ratio to the best, the served default's against the targets, and the worst ratio
last. The load average is printed with each figure.
"""

# The pgbench script is SQL written from the captured statements (no input from outside reaches it).
# ruff: noqa: S608

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import floor  # noqa: E402 (sets Django up, and serves the API beside the floor)
from django.db import connection, transaction  # noqa: E402
from psycopg import sql  # noqa: E402

# Each appointment's rows, numbered from its index n (1-based): uuids whose last group is n, a meeting's id n + this.
UUID_PREFIX = {"appointment": "00000000-0000-4000-8000-", "claimant": "00000000-0000-4000-8001-",
               "item": "00000000-0000-4000-8002-"}  # fmt: skip
MEETING_BASE = 10**9
N = ":tput_n"  # the pgbench variable: the appointment of the transaction


def numbered(kind: str, n: int) -> uuid.UUID:
    return uuid.UUID(f"{UUID_PREFIX[kind]}{n:012d}")


def numbered_sql(kind: str) -> str:
    """The same id computed from the pgbench variable."""
    if kind == "meeting":
        return f"({N}::bigint + {MEETING_BASE})"
    return f"('{UUID_PREFIX[kind]}' || lpad({N}::text, 12, '0'))::uuid"


@dataclass
class Config:
    name: str
    workers: int
    threads: int = 1
    env: dict[str, str] | None = None
    served: bool = False  # config/gunicorn.conf.py's defaults: no WEB_THREADS given, a worker per core


CORES = multiprocessing.cpu_count()


# Candidates: today's default first (the baseline of "before"), then the levers one at a time and together.
CONFIGS = (
    Config(f"served default: gthread {CORES}x4, persistent", CORES, 4, served=True),
    Config("sync x5, persistent (before)", 5),
    Config("sync x5, new connection per request", 5, env={"DB_CONN_MAX_AGE": "0"}),
    Config("sync x5, psycopg pool", 5, env={"DB_POOL": "1"}),
    Config("sync x5, persistent, no health check", 5, env={"DB_CONN_HEALTH_CHECKS": "0"}),
    Config("sync x3, persistent", 3),
    Config("gthread 2x4, persistent", 2, 4),
    Config("gthread 2x4, psycopg pool", 2, 4, env={"DB_POOL": "1", "DB_POOL_MAX": "4"}),
    Config("gthread 2x4, persistent, no health check", 2, 4, env={"DB_CONN_HEALTH_CHECKS": "0"}),
    Config("gthread 3x4, persistent", 3, 4),
    Config("gthread 4x2, persistent", 4, 2),
)


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


# --- the database: numbered rows, the API's statements as a pgbench script ------------------------------------


def renumber(table: str, pairs: list[tuple[Any, Any]]) -> None:
    """Gives `table`'s rows new primary keys, and every foreign key to them the same (Django's constraints are
    deferred to the commit)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(
            "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c JOIN pg_attribute a "
            "ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'f' AND c.confrelid = %s::regclass",
            [table],
        )
        references = cursor.fetchall()
        for old, new in pairs:
            cursor.execute(f'UPDATE "{table}" SET id = %s WHERE id = %s', [new, old])
            for other, column in references:
                cursor.execute(f'UPDATE {other} SET "{column}" = %s WHERE "{column}" = %s', [new, old])


def number_rows(bench: floor.Bench) -> None:
    """Each appointment's rows numbered from its index (numbered()); the bench's lists follow."""
    from appointments.models import Appointment

    rows = {str(a.pk): a for a in Appointment.objects.select_related("claimant", "meeting")}
    found = [rows[pk] for pk in bench.ids]
    renumber("appointments_appointment", [(a.pk, numbered("appointment", n)) for n, a in enumerate(found, 1)])
    renumber("claimants_claimant", [(a.claimant.pk, numbered("claimant", n)) for n, a in enumerate(found, 1)])
    renumber("claimants_claimantdata", [(pk, numbered("item", n)) for n, pk in enumerate(bench.items, 1)])
    renumber("meetings_meeting", [(a.meeting.pk, MEETING_BASE + n) for n, a in enumerate(found, 1)])
    bench.ids = [str(numbered("appointment", n)) for n in range(1, len(found) + 1)]
    bench.items = [str(numbered("item", n)) for n in range(1, len(found) + 1)]


def patch_in_process(bench: floor.Bench, index: int, n: int) -> None:
    body = json.dumps(bench.patch_body(index, n)).encode()
    response = bench.call("PATCH", f"/api/v1/appointments/{bench.ids[index]}", body)
    assert response.status_code == 200, response.content[:300]


def capture(bench: floor.Bench, index: int) -> list[tuple[str, list[Any], bool]]:
    """The statements of one API PATCH that changes everything it sends: (SQL, values, inside the transaction)."""
    patch_in_process(bench, index, 0)
    statements: list[tuple[str, list[Any], bool]] = []

    def record(execute: Any, text: str, params: Any, many: bool, context: Any) -> Any:
        statements.append((text, list(params or []), context["connection"].in_atomic_block))
        return execute(text, params, many, context)

    with connection.execute_wrapper(record):
        patch_in_process(bench, index, 1)
    return statements


def _literal(value: Any) -> str:
    """A value as SQL text, as psycopg binds it client-side (what the API sends); a ':' before a letter inside a
    string is written \\x3a, which pgbench would otherwise read as a variable."""
    text = sql.Literal(value).as_string(connection.connection)

    def escaped(match: re.Match[str]) -> str:
        prefix, body = match[1], match[2]
        if not re.search(r":[A-Za-z_]", body):
            return match[0]
        if not prefix:
            body = body.replace("\\", "\\\\")
        return "E'" + body.replace(":", "\\x3a") + "'"

    return re.sub(r"(E?)'((?:[^']|'')*)'", escaped, text)


def _bind(text: str, values: list[str]) -> str:
    """Django's statement with each %s replaced by its value's SQL, in order (%% is a %)."""
    parts = iter(values)
    return re.sub(r"%%|%s", lambda m: "%" if m[0] == "%%" else next(parts), text)


def pgbench_script(statements: list[tuple[str, list[Any], bool]], bench: floor.Bench, index: int) -> str:
    """The captured statements as a pgbench script over appointment :tput_n."""
    n = index + 1
    ids: dict[Any, str] = {
        numbered("appointment", n): numbered_sql("appointment"),
        numbered("claimant", n): numbered_sql("claimant"),
        numbered("item", n): numbered_sql("item"),
        MEETING_BASE + n: numbered_sql("meeting"),
    }
    lines = [f"\\set tput_n random(1, {len(bench.ids)})"]
    began = False
    for text, params, atomic in statements:
        if atomic and not began:
            lines.append("BEGIN;")
            began = True
        if not atomic and began:
            lines.append("COMMIT;")
            began = False
        inserted = re.match(r'INSERT INTO "(\w+)" \(([^)]*)\) VALUES', text)
        columns = [c.strip().strip('"') for c in inserted[2].split(",")] if inserted else []
        values = []
        for position, value in enumerate(params):
            column = columns[position % len(columns)] if columns else ""
            if column == "id" and isinstance(value, uuid.UUID) and value not in ids:
                values.append("gen_random_uuid()")  # a new row's id, drawn per transaction
            elif inserted and inserted[1] == "ledger_entry" and column == "sequence":
                values.append(f":tput_s{position // len(columns) + 1}")
            elif isinstance(value, (uuid.UUID, int)) and not isinstance(value, bool) and value in ids:
                values.append(ids[value])
            else:
                values.append(_literal(value))
        line = _bind(text, values)
        if re.match(r'SELECT "sequence", "hash" FROM "ledger_entry"', text):
            lines += [line + " \\gset tput_head_", "\\set tput_s1 :tput_head_sequence + 1",
                      "\\set tput_s2 :tput_head_sequence + 2"]  # fmt: skip
        else:
            lines.append(line + ";")
    if began:
        lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


def pgbench(script: Path, mode: str, seconds: int, clients: int) -> float:
    """Transactions a second of `script` (pgbench, `clients` clients on 2 threads)."""
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    output = subprocess.run(  # noqa: S603 (pgbench from the system, arguments we build)
        [shutil.which("pgbench") or "pgbench", "-n", "-M", mode, "-c", str(clients), "-j", "2", "-T", str(seconds),
         "-f", str(script), "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"],
         db["NAME"]],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    found = re.search(r"tps = ([\d.]+)", output.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", output.stdout)
    if found is None or output.returncode != 0 or (failed and failed[1] != "0"):
        raise SystemExit(f"pgbench failed:\n{output.stdout}\n{output.stderr}")
    return float(found[1])


# --- over HTTP ------------------------------------------------------------------------------------------------


@dataclass
class Run:
    rate: float
    p50: float
    p99: float
    failed: str
    load: str
    cpu_ms: float = 0.0  # the server's processor time a request (its workers, user and system)


def _workers_cpu(port: int) -> float:
    """Seconds of processor time (user and system) of the gunicorn serving `port` and its workers so far."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            if f"127.0.0.1:{port}".encode() in command and b"gunicorn" in command:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:  # a process that ended meanwhile
            continue
    return total


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(bench: floor.Bench, port: int, prefix: str, seconds: int) -> Run:
    """PATCHes a second over `seconds` with wrk (2 threads, 8 connections), p50 and p99 (ms), non-2xx count."""
    count = len(bench.ids) - (len(bench.ids) + 1) % 2  # odd: a connection's next visit flips every value
    script = floor._WRK_SCRIPT % {
        "ids": ", ".join(f'"{pk}"' for pk in bench.ids[:count]),
        "items": ", ".join(f'"{pk}"' for pk in bench.items[:count]), "when0": floor.WHEN[0],
        "when1": floor.WHEN[1], "phone0": floor.PHONES[0], "phone1": floor.PHONES[1], "token": bench.token,
        "prefix": prefix,
    }  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    cpu = _workers_cpu(port)
    try:
        output = subprocess.run(  # noqa: S603 (wrk from the system, arguments we build)
            [shutil.which("wrk") or "wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "-s", handle.name,
             f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(handle.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M)[1])  # type: ignore[index]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M)[1])  # type: ignore[index]
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    done = int(re.search(r"(\d+) requests in", output)[1])  # type: ignore[index]
    cpu_ms = (_workers_cpu(port) - cpu) * 1000 / max(done, 1)
    return Run(rate, p50, p99, failed[1] if failed else "0", load(), cpu_ms)


def warm_up(bench: floor.Bench, port: int) -> None:
    """Until every worker has booted and served both sides (their first requests import and compile what they
    use): a worker still importing holds the connections it was given, so a run begun too early measures nothing."""
    for _ in range(15):
        if min(wrk(bench, port, prefix, 2).rate for prefix in ("/api/v1", "/floor")) > 0:
            break
    wrk(bench, port, "/api/v1", 2)
    wrk(bench, port, "/floor", 2)


@contextmanager
def served(env: dict[str, str], config: Config, log: Any) -> Iterator[int]:
    from tests.support import gunicorn

    server_env = {**env, **(config.env or {})} | ({} if config.served else {"WEB_THREADS": str(config.threads)})
    with gunicorn(server_env, workers=config.workers, app="floor:application", production=True, log=log) as port:
        yield port


def main() -> None:
    from tests.support import throwaway_database

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="each wrk and pgbench run")
    parser.add_argument("--appointments", type=int, default=201, help="appointments the PATCHes rotate over")
    parser.add_argument("--only", nargs="*", help="configurations to run (a prefix of their names)")
    parser.add_argument("--show-script", action="store_true", help="print the pgbench script")
    parser.add_argument("--logs", type=Path, help="a folder for each server's log (otherwise dropped)")
    args = parser.parse_args()
    missing = [tool for tool in ("pgbench", "wrk") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(
            f"Missing {' and '.join(missing)}: on Debian, `apt-get install postgresql-client wrk` (pgbench comes with "
            "PostgreSQL's client tools)."
        )
    assert connection.vendor == "postgresql", "pgbench needs PostgreSQL: set DATABASE_URL"
    configs = [c for c in CONFIGS if not args.only or any(c.name.startswith(o) for o in args.only)]
    with throwaway_database("bench_throughput") as env, tempfile.TemporaryDirectory() as folder:
        bench = floor.Bench(count=args.appointments)
        number_rows(bench)
        for index in range(len(bench.ids)):  # each its ledger's head, and the token's last use just written
            patch_in_process(bench, index, 0)
        statements = capture(bench, 0)
        script = Path(folder) / "patch.sql"
        script.write_text(pgbench_script(statements, bench, 0))
        if args.show_script:
            print(script.read_text())
        inside = sum(1 for *_, atomic in statements if atomic)
        connection.close()
        server_env = env | {
            "PYTHONPATH": str(ROOT / "bench"), "API_RATE_LIMIT": f"{floor.RATE_PER_MINUTE}/min",
            "ALLOWED_HOSTS": "127.0.0.1", "REDIS_URL": os.environ.get("REDIS_URL", ""),
        }  # fmt: skip
        print(f"The API's PATCH: {len(statements)} statements ({inside} between BEGIN and COMMIT, the Bearer lookup "
              f"before), {len(bench.ids)} appointments, wrk and pgbench {args.seconds} s each.")  # fmt: skip
        pgbench(script, "prepared", 2, 8)  # warm-up
        simple = pgbench(script, "simple", args.seconds, 8)
        print(f"pgbench -M simple (values inline, as the API sends them), 8 clients: {simple:.1f} transactions/s "
              f"(load {load()})")  # fmt: skip
        print("Each configuration: pgbench -M prepared (8 clients) just before its wrk runs, the ratio to that.\n")
        print(f"{'configuration':<42} {'side':<6} {'PATCH/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'/pgbench':>8} "
              f"{'p99/floor':>9} {'cpu ms':>6} {'non-2xx':>7}  load")  # fmt: skip
        results: list[tuple[Config, float, Run, Run]] = []
        for number, config in enumerate(configs):
            log_path = (args.logs or Path(folder)) / f"gunicorn-{number}.log"
            with log_path.open("w") as log, served(server_env, config, log) as port:
                warm_up(bench, port)
                ceiling = pgbench(script, "prepared", args.seconds, 8)
                print(f"{config.name:<42} {'pgbench':<6} {ceiling:8.1f} {'':>7} {'':>7} {1:8.2f} {'':>9} {'':>6} "
                      f"{'':>7}  {load()}")  # fmt: skip
                api, lean = wrk(bench, port, "/api/v1", args.seconds), wrk(bench, port, "/floor", args.seconds)
            results.append((config, ceiling, api, lean))
            for side, run in (("API", api), ("floor", lean)):
                extra = f"{run.p99 / max(lean.p99, 0.001):8.2f}x" if side == "API" else ""
                print(f"{'':<42} {side:<6} {run.rate:8.1f} {run.p50:7.1f} {run.p99:7.1f} {run.rate / ceiling:8.2f} "
                      f"{extra:>9} {run.cpu_ms:6.1f} {run.failed:>7}  {run.load}")  # fmt: skip
        print("\ncpu ms: the server's processor time a request (gunicorn's workers), the same on a loaded machine.")
        ranked = sorted(results, key=lambda r: r[2].rate / r[1])
        for config, ceiling, api, lean in ranked:
            print(f"  {config.name:<42} API {api.rate / ceiling:.2f} of pgbench, p99 {api.p99 / lean.p99:.2f}x the "
                  f"floor's, {api.cpu_ms:.1f} ms of processor a PATCH")  # fmt: skip
        default = next((r for r in results if r[0].served), None)
        if default is not None:
            config, ceiling, api, lean = default
            print(f"Served default ({config.name}): {api.rate / ceiling:.2f} of pgbench's prepared rate (target "
                  f"0.50), p99 {api.p99 / lean.p99:.2f}x the floor's (target 1.5x)")  # fmt: skip
        worst = ranked[0]
        print(f"Worst ratio to pgbench's prepared rate: {worst[2].rate / worst[1]:.2f} ({worst[0].name})")


if __name__ == "__main__":
    main()
