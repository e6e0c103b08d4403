"""Losing Redis costs only the shared rate-limit counts (docs/operating.md), proved with real processes: gunicorn
with the production config on a Redis server of this test's own, stopped mid-run and started again. The API and
the claimant's page keep answering, the limits count in the process meanwhile (one warning a minute says so), and
/health/ready reports the cache degraded while the instance stays ready (issue 18.14)."""

import contextlib
import http.client
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.test import override_settings

from config.net import Counters, counters, over_limit
from meetings.models import Participant, Role
from tests.helpers import postgres_only, wait_for
from tests.support import database_env, free_port, gunicorn

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


@contextlib.contextmanager
def redis_server(port: int, directory: Path) -> Iterator[redis.Redis]:
    """A redis-server of the test's own on `port` (never the shared 6379), stopped afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("REQUIRE_REDIS=1 but redis-server is not installed")
        pytest.skip("needs redis-server (Debian's redis-server package)")
    process = subprocess.Popen(  # noqa: S603 (Debian's redis-server, arguments we build)
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port, socket_timeout=1)
    try:
        wait_for(lambda: _answers(client), 10, "redis-server answers")
        yield client
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def call(port: int, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    content = response.read()
    conn.close()
    return response.status, content


def test_the_service_answers_while_redis_is_down(tmp_path: Path, department, appointment, agent) -> None:
    claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
    api = f"/api/v1/appointments/{appointment.pk}"
    auth = {"Authorization": f"Bearer {agent.token}"}
    port = free_port()
    env = {
        **database_env(),
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "API_RATE_LIMIT": "20/min",
        "LOG_FORMAT": "json",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    log = tmp_path / "web.log"
    with log.open("w") as out, gunicorn(env, production=True, log=out) as web:
        with redis_server(port, tmp_path) as shared:
            assert call(web, "GET", api, **auth)[0] == 200
            assert shared.keys("*")  # the limit counts in Redis
            ready = call(web, "GET", "/health/ready", Accept="application/json")
            assert ready[0] == 200
            assert set(json.loads(ready[1]).values()) == {"OK"}

        # Redis is gone (stopped above); the same server goes on.
        down = [
            call(web, "GET", api, **auth)[0],
            call(web, "PATCH", api, {"duration_in_minutes": 50}, **auth)[0],
            call(web, "GET", f"/join/{claimant.token}")[0],
            call(web, "GET", f"/join/{claimant.token}/status")[0],
        ]
        assert down == [200, 200, 200, 200]
        ready = call(web, "GET", "/health/ready", Accept="application/json")
        assert ready[0] == 200  # still in rotation
        assert any("degraded" in str(value) for value in json.loads(ready[1]).values()), ready[1]
        # The limit still holds, counted in the process: 20 a minute (at most two windows in this stretch).
        codes = [call(web, "GET", api, **auth)[0] for _ in range(45)]
        assert 429 in codes
        assert codes.count(200) <= 2 * 20
        assert set(codes) == {200, 429}

        with redis_server(port, tmp_path) as shared:
            # Back to the shared counts once Redis answers (the process tries it again within seconds).
            wait_for(lambda: call(web, "GET", "/health/live")[0] == 200 and _counted(web, api, auth, shared), 30,
                     "the limit counts in Redis again")  # fmt: skip
        web_log = log.read_text()
    lines = [json.loads(line) for line in web_log.splitlines() if line.strip()]
    assert [line["level"] for line in lines if line["level"] in ("ERROR", "CRITICAL")] == []
    fallback = [line for line in lines if line["logger"] == "config.net" and line["level"] == "WARNING"]
    assert len(fallback) == 1, fallback  # once a minute, however many requests counted locally


def _counted(web: int, api: str, auth: dict[str, str], shared: redis.Redis) -> bool:
    call(web, "GET", api, **auth)
    return bool(shared.keys("*"))


def test_unreachable_shared_cache_counts_in_the_process_and_warns_once_a_minute(caplog) -> None:
    closed = free_port()  # nothing listens there
    unreachable = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://127.0.0.1:{closed}"}
    counters.local.clear()
    with override_settings(CACHES={"default": unreachable}), caplog.at_level("WARNING", logger="config.net"):
        limited = [over_limit("unreachable", 3) for _ in range(5)]
        assert limited == [False, False, False, True, True]  # counted here meanwhile
        assert len(caplog.records) == 1
        # A minute on, still unreachable: one more line.
        counters.failed_at = counters.logged_at = (counters.logged_at or 0) - Counters.LOG_EVERY_SECONDS - 1
        over_limit("unreachable", 3)
        assert len(caplog.records) == 2
    counters.failed_at = counters.logged_at = None
