"""Every answer under /api/ is the contract's JSON `{"message": ...}`, also for requests gunicorn refuses before
Django sees them and for chunked bodies that are malformed or cut short (issue 18.7): raw bytes on a socket to a
real gunicorn started with the project's config (config/gunicorn.conf.py), as production runs it."""

import json
import runpy
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import RawResponse, raw_http, shared_database_only
from tests.support import database_env, gunicorn

pytestmark = [shared_database_only, pytest.mark.django_db(transaction=True)]

PATH = "/api/v1/appointments"
ROOT = Path(__file__).resolve().parents[2]


# Both worker kinds config/gunicorn.conf.py may run: the sync worker (WEB_THREADS=1) and the threaded one.
@pytest.fixture(scope="module", params=["1", "4"], ids=["sync", "gthread"])
def server(request, django_db_setup) -> Iterator[int]:
    env = {**database_env(), "ALLOWED_HOSTS": "127.0.0.1", "DB_CONN_MAX_AGE": "0", "WEB_THREADS": request.param}
    with gunicorn(env, production=True) as port:
        yield port


@pytest.mark.parametrize(
    ("threads", "worker"),
    [("1", "JsonErrorSyncWorker"), ("2", "JsonErrorThreadWorker"), ("4", "JsonErrorThreadWorker")],
)
def test_threads_above_one_choose_the_threaded_worker(monkeypatch, threads, worker) -> None:
    monkeypatch.setenv("WEB_THREADS", threads)
    conf = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    assert conf["worker_class"] == f"config.gunicorn_worker.{worker}"
    assert conf["threads"] == int(threads)


def request(*lines: str, body: bytes = b"") -> bytes:
    return ("\r\n".join([*lines, "Host: 127.0.0.1", "Connection: close"]) + "\r\n\r\n").encode("latin-1") + body


def assert_json(response: RawResponse, status: int) -> str:
    assert response.status == status, response
    assert response.headers["content-type"] == "application/json"
    if "content-length" in response.headers:  # else the body came chunked (raw_http joins the chunks)
        assert int(response.headers["content-length"]) == len(response.body)
    body = json.loads(response.body)
    assert set(body) == {"message"}
    assert body["message"]
    return str(body["message"])


CHUNKED = ("POST " + PATH + " HTTP/1.1", "Content-Type: application/json", "Transfer-Encoding: chunked")


@pytest.mark.parametrize(
    "body",
    [
        b"zz\r\n{}\r\n0\r\n\r\n",  # not a chunk size
        b"2\r\n{}XX0\r\n\r\n",  # a chunk without its CRLF
        b'64\r\n{"duration_in_minutes": 45}',  # 100 bytes announced, fewer sent, then the connection closes
        b"2\r\n{}\r\n",  # no last chunk
    ],
)
def test_a_malformed_or_cut_short_chunked_body_is_a_json_400(server, body) -> None:
    message = assert_json(raw_http(server, request(*CHUNKED, body=body)), 400)
    assert "chunked" in message


@pytest.mark.parametrize(
    ("lines", "status"),
    [
        (("GET " + PATH + " HTTP/1.1", 'If-Match: "a\x01b"'), 400),  # a control byte in a header
        (("POST " + PATH + " HTTP/1.1", "Content-Length: -1"), 400),
        (("POST " + PATH + " HTTP/1.1", "Content-Length: 2", "Transfer-Encoding: chunked"), 400),
        (("GET " + PATH + "?q=" + "x" * 5000 + " HTTP/1.1",), 414),
        (("GET " + PATH + " HTTP/1.1", "X-Large: " + "x" * 9000), 431),
        (("GET " + PATH + " HTTP/1.1", *(f"X-Many-{n}: 1" for n in range(120))), 431),
        (("GET " + PATH + " HTTP/9.9",), 400),
        (("GET  " + PATH + " HTTP/1.1",), 400),
    ],
)
def test_what_gunicorn_refuses_itself_is_answered_in_json(server, lines, status) -> None:
    assert_json(raw_http(server, request(*lines)), status)


def test_a_well_formed_request_still_reaches_the_api(server) -> None:
    response = raw_http(server, request("GET " + PATH + " HTTP/1.1"))
    assert assert_json(response, 401) == "Unauthenticated."
