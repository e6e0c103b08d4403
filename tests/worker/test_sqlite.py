"""The task worker beside the web server on one SQLite file, as `make run` starts them (Procfile): while the
server writes, the worker waits for the database instead of failing, and its tasks run."""

import secrets
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from tests.helpers import wait_for
from tests.support import start_db_worker
from tests.worker.tasks import sleep_for

TASKS = 30
SLEEP_FOR = "tests.worker.tasks.sleep_for"

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="copies the suite's migrated SQLite database into a file (migrating one of its own takes over a "
    "minute); CI runs it in its SQLite step",
)


def writes_like_a_server(path: Path, stop: threading.Event) -> None:
    """A request's transaction after another: the write lock taken, a row written, held a moment, committed."""
    db = sqlite3.connect(path, timeout=20, isolation_level=None)
    try:
        while not stop.is_set():
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT INTO django_session (session_key, session_data, expire_date) VALUES (?, '', '2100-01-01')",
                [secrets.token_hex(16)],
            )
            time.sleep(0.05)
            db.execute("COMMIT")
            time.sleep(0.005)
    finally:
        db.close()


def finished(path: Path) -> int:
    db = sqlite3.connect(path, timeout=20)
    try:
        # This test's tasks only: the worker's first sweep also queues and runs the day's ledger digest and
        # retention purge.
        query = f"SELECT count(*) FROM {DBTaskResult._meta.db_table} WHERE status = 'SUCCESSFUL' AND task_path = ?"  # noqa: S608
        return int(db.execute(query, [SLEEP_FOR]).fetchone()[0])
    finally:
        db.close()


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_the_worker_waits_for_a_writing_server_instead_of_logging_errors(tmp_path: Path) -> None:
    for _ in range(TASKS):
        sleep_for.enqueue(0)
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path) as copy:
        connection.ensure_connection()
        connection.connection.backup(copy)
    log = tmp_path / "worker.log"
    stop = threading.Event()
    server = threading.Thread(target=writes_like_a_server, args=(path, stop))
    server.start()
    try:
        with log.open("wb") as output:
            worker = start_db_worker({"DATABASE_URL": f"sqlite:///{path}"}, output)
            try:
                wait_for(lambda: finished(path) == TASKS, 120, "every task run beside the writing server")
                time.sleep(2)  # the heart's beats and a sweep, beside the writes
            finally:
                worker.terminate()
                worker.wait(timeout=30)
    finally:
        stop.set()
        server.join()
    lines = log.read_text()
    assert "ERROR" not in lines, lines
    assert "Traceback" not in lines, lines
