"""A database outage, as a real server sees it: gunicorn with the production config reaches PostgreSQL through a
proxy the test cuts for a stretch of requests, twice. Every request that needs the database is answered 503 (the
API's JSON; the claimant's page and its status poll, which LeanMiddleware calls itself, a plain page), and ADMINS
get one mail per outage, not one per request (issue 18.10)."""

import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from meetings.models import Participant, Role
from tests.helpers import SmtpServer, TcpProxy, postgres_only, wait_for
from tests.support import database_env, gunicorn

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def get(port: int, path: str, **headers: str) -> tuple[int, bytes, http.client.HTTPResponse]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body, response


def patch(port: int, path: str, body: dict[str, object], **headers: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("PATCH", path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers})
    response = conn.getresponse()
    answer = response.status, response.read()
    conn.close()
    return answer


def test_an_outage_is_503s_and_one_error_mail(tmp_path: Path, department, appointment, agent) -> None:
    claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
    api = f"/api/v1/appointments/{appointment.pk}"
    page = f"/join/{claimant.token}"
    auth = {"Authorization": f"Bearer {agent.token}"}
    database = connection.settings_dict
    log = tmp_path / "web.log"
    with SmtpServer() as smtp, TcpProxy((database["HOST"], int(database["PORT"]))) as proxy:
        through_proxy = urlsplit(database_env()["DATABASE_URL"])
        env = {
            "DATABASE_URL": urlunsplit(through_proxy._replace(netloc=f"postgres@127.0.0.1:{proxy.port}")),
            "ADMINS": "Ops <ops@example.com>",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "LOG_FORMAT": "json",
            "ALLOWED_HOSTS": "127.0.0.1",
            "API_RATE_LIMIT": "100000/min",
        }
        with log.open("w") as out, gunicorn(env, production=True, log=out) as port:
            assert get(port, api, **auth)[0] == 200
            answers, probes = [], []
            for _outage in range(2):
                proxy.cut()
                for _ in range(12):
                    answers.append(get(port, api, **auth))
                    answers.append(get(port, page))
                    answers.append(get(port, f"{page}/status", Accept="application/json"))
                probes += [get(port, "/health/ready", Accept="application/json")[0] for _ in range(3)]
                proxy.restore()
                wait_for(lambda: get(port, api, **auth)[0] == 200, 30, "the API answers once the database does")
                assert get(port, page)[0] == 200
                # A change after the outage writes through a new connection (and its new kept cursor) on every
                # worker thread that had one before: each of them answers, and the row holds the last change.
                for minutes in range(31 + 10 * _outage, 36 + 10 * _outage):
                    assert patch(port, api, {"duration_in_minutes": minutes}, **auth)[0] == 200
                appointment.refresh_from_db()
                assert appointment.duration_in_minutes == 35 + 10 * _outage
            mailed = list(smtp.messages)
    assert [status for status, _body, _response in answers] == [503] * 72
    api_answers = answers[0::3]
    assert {json.loads(body)["message"] for _status, body, _response in api_answers} == {
        "The service is temporarily unavailable. Try again shortly."
    }
    assert {response.getheader("Retry-After") for _status, _body, response in answers} == {"5"}
    assert all(b"temporarily unavailable" in body for _status, body, _response in answers[1::3])
    assert all(b"temporarily unavailable" in body for _status, body, _response in answers[2::3])
    assert probes == [500] * 6  # not ready: the load balancer takes the instance out, and nobody is mailed

    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    errors = [line for line in lines if line["level"] in ("ERROR", "CRITICAL")]
    assert len(errors) == 2, errors  # the first failure of each outage
    assert all("exc_info" in line for line in errors)  # with what the database said
    warnings = [line for line in lines if line["level"] == "WARNING" and "database" in line["message"]]
    assert len(warnings) == 72 - 2  # every other failed request, still logged, not mailed
    assert len(mailed) == 2
