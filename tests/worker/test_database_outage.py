"""The task worker and a database outage, as a real worker sees it: it reaches PostgreSQL through a proxy the test
cuts for a while. It waits the outage out (no exit, no plain-text traceback), logs one JSON line at ERROR for it,
and delivers what was written meanwhile once the database answers again."""

import json
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from tests.factories import make_appointment
from tests.helpers import Receiver, TcpProxy, postgres_only, wait_for
from tests.support import database_env, db_worker
from webhooks.models import Endpoint

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def test_the_worker_waits_out_an_outage_with_one_error_line_and_carries_on(tmp_path: Path, department) -> None:
    database = connection.settings_dict
    log = tmp_path / "worker.log"
    with Receiver() as receiver, TcpProxy((database["HOST"], int(database["PORT"]))) as proxy:
        Endpoint.objects.create(department=department, url=receiver.url, event_types=["appointment.created"])
        through_proxy = urlsplit(database_env()["DATABASE_URL"])
        env = {
            "DATABASE_URL": urlunsplit(through_proxy._replace(netloc=f"postgres@127.0.0.1:{proxy.port}")),
            "LOG_FORMAT": "json",
            "WEBHOOK_ALLOW_HTTP_LOOPBACK": "1",
            "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
            "TASK_LEASE_SECONDS": "2",
            "TASK_SWEEP_SECONDS": "1",
        }
        with log.open("w") as out, db_worker(env, log=out) as worker:
            make_appointment(department)
            wait_for(lambda: len(receiver.received) == 1, 60, "the first booking delivered")
            for outage in range(2):
                proxy.cut()
                make_appointment(department)  # written directly: only the worker has lost the database
                time.sleep(4)  # every thread of the worker has tried, and tried again
                assert worker.poll() is None, "the worker exited"
                proxy.restore()
                wait_for(lambda: len(receiver.received) == 2 + outage, 60, "the booking made during the outage")  # noqa: B023
            assert worker.poll() is None
    lines = log.read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]  # every line is JSON
    errors = [record for record in records if record["level"] in ("ERROR", "CRITICAL")]
    assert [error["message"] for error in errors] == [
        "The database does not answer (OperationalError): the worker waits for it"
    ] * 2, errors  # one per outage
    assert all("exc_info" in error for error in errors)
    assert len({item.headers["webhook-id"] for item in receiver.received}) == 3
