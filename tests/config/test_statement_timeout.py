"""The web server bounds each SQL statement (DB_STATEMENT_TIMEOUT_MS, which config/gunicorn.conf.py sets to its
TIMEOUT): under gunicorn's threaded workers nothing else ends a request stuck in the database. The task worker and
the commands keep none unless it is set for them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def run(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "DB_STATEMENT_TIMEOUT_MS"}
    done = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code], cwd=ROOT, env=clean | env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_the_web_servers_configuration_bounds_statements_by_its_timeout() -> None:
    code = "import runpy, os; runpy.run_path('config/gunicorn.conf.py'); print(os.environ['DB_STATEMENT_TIMEOUT_MS'])"
    assert run(code) == "30000"
    assert run(code, TIMEOUT="12") == "12000"
    assert run(code, DB_STATEMENT_TIMEOUT_MS="5000") == "5000"  # given: kept


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting of the connection")
def test_postgresql_cancels_a_statement_past_the_bound() -> None:
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup()\n"
        "from django.db import connection, OperationalError\n"
        "cursor = connection.cursor()\n"
        "cursor.execute('SHOW statement_timeout'); print(cursor.fetchone()[0])\n"
        "try:\n    cursor.execute('SELECT pg_sleep(2)'); print('ran')\n"
        "except OperationalError as error:\n    print(type(error.__cause__).__name__)\n"
    )
    database = os.environ["DATABASE_URL"]
    assert run(code, DATABASE_URL=database, DB_STATEMENT_TIMEOUT_MS="300").splitlines() == ["300ms", "QueryCanceled"]
    assert run(code, DATABASE_URL=database).splitlines() == ["0", "ran"]  # the worker's and the commands': none
