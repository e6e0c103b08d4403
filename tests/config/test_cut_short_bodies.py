"""A body shorter than its Content-Length is refused with 400 and changes nothing (issue 18.1), on the API and on
the claimant's pages: a real gunicorn with the project's config, a real socket that sends part of a body and
closes its side, as a client whose connection drops does."""

import json
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from appointments.models import Appointment, Status
from claimants.models import ClaimantData
from meetings.models import Participant, Role
from tests.helpers import RawResponse, raw_http, shared_database_only, snapshot
from tests.support import Persona, database_env, gunicorn, persona

pytestmark = [shared_database_only, pytest.mark.django_db(transaction=True)]

URL = "/api/v1/appointments"


@pytest.fixture(scope="module")
def server(django_db_setup) -> Iterator[int]:
    env = {**database_env(), "ALLOWED_HOSTS": "127.0.0.1", "DB_CONN_MAX_AGE": "0"}
    with gunicorn(env, production=True) as port:
        yield port


def request_bytes(method: str, path: str, body: bytes, *, length: int, **headers: str) -> bytes:
    """An HTTP/1.1 request that declares `length` bytes of body and carries `body` (maybe fewer)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {length}", "Connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def cut(port: int, method: str, path: str, body: bytes, sent: int, **headers: str) -> RawResponse:
    return raw_http(port, request_bytes(method, path, body[:sent], length=len(body), **headers))


def whole(port: int, method: str, path: str, body: bytes, **headers: str) -> RawResponse:
    return raw_http(port, request_bytes(method, path, body, length=len(body), **headers))


def assert_refused(response: RawResponse) -> None:
    assert response.status == 400, response.body
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.body) == {"message": "The request body is shorter than its Content-Length."}


def test_a_form_patch_cut_short_changes_nothing(server, department, appointment) -> None:
    agent = persona("cut-patch", department)
    before = snapshot(appointment)
    body = urlencode({"claimant[name]": "Jonathan Livingstone-Smythe", "status": "cancelled"}).encode()
    sent = body.index(b"+Livingstone")  # "claimant[name]=Jonathan", as the connection dropped
    response = cut(server, "PATCH", f"{URL}/{appointment.pk}", body, sent, **form(agent))
    assert_refused(response)
    assert snapshot(appointment) == before
    complete = whole(server, "PATCH", f"{URL}/{appointment.pk}", body, **form(agent))
    assert complete.status == 200, complete
    fresh = Appointment.objects.select_related("claimant").get(pk=appointment.pk)
    assert (fresh.claimant.name, fresh.status) == ("Jonathan Livingstone-Smythe", Status.CANCELLED)


def test_a_create_cut_short_takes_nothing_and_its_retry_with_the_same_key_succeeds(server, department) -> None:
    agent = persona("cut-create", department)
    body = urlencode(
        {
            "appointment_at": "2031-03-01T09:00:00Z",
            "duration_in_minutes": "30",
            "claimant[name]": "Jan Kowalski",
            "claimant[data][Case number]": "CASE-7781234",
        }
    ).encode()
    headers = {**form(agent), "Idempotency-Key": "retry-me"}
    count = Appointment.objects.count()
    assert_refused(cut(server, "POST", URL, body, body.index(b"81234"), **headers))  # "CASE-77"
    assert Appointment.objects.count() == count
    retry = whole(server, "POST", URL, body, **headers)
    assert retry.status == 201, retry
    created = Appointment.objects.get(pk=json.loads(retry.body)["data"]["id"])
    assert ClaimantData.objects.get(claimant__appointment=created, field__name="Case number").value == "CASE-7781234"
    assert Appointment.objects.count() == count + 1


@pytest.mark.parametrize("content_type", ["application/json", "multipart/form-data; boundary=B"])
def test_a_whole_looking_body_shorter_than_declared_changes_nothing(server, department, appointment, content_type):
    """The part that arrived parses on its own (a JSON object, a multipart form closed by its boundary)."""
    agent = persona("cut-json", department)
    before = snapshot(appointment)
    if content_type == "application/json":
        body = json.dumps({"duration_in_minutes": 45}).encode() + b" " * 20
    else:
        part = b'--B\r\nContent-Disposition: form-data; name="duration_in_minutes"\r\n\r\n45\r\n--B--\r\n'
        body = part + b"\r\n" * 10
    headers = {"Authorization": f"Bearer {agent.token}", "Content-Type": content_type}
    path = f"{URL}/{appointment.pk}" + ("" if content_type == "application/json" else "?_method=PATCH")
    method = "PATCH" if content_type == "application/json" else "POST"
    assert_refused(cut(server, method, path, body, len(body) - 20, **headers))
    assert snapshot(appointment) == before


def test_a_claimants_step_cut_short_is_a_400_and_records_nothing(server, department, appointment) -> None:
    token, cookies = opened(server, appointment)
    body = json.dumps({"camera": True, "microphone": True}).encode() + b" " * 10
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    headers = {"Content-Type": "application/json", "Cookie": cookie, "X-CSRFToken": cookies["csrftoken"]}
    response = cut(server, "POST", f"/join/{token}/device-check", body, len(body) - 10, **headers)
    assert response.status == 400, response.body
    assert json.loads(response.body)["message"] == "The request body is shorter than its Content-Length."
    claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
    assert claimant.device_checked_at is None
    complete = whole(server, "POST", f"/join/{token}/device-check", body, **headers)
    assert complete.status == 200, complete
    claimant.refresh_from_db()
    assert claimant.device_check == {"camera": True, "microphone": True, "downlink_kbps": None}


def form(agent: Persona) -> dict[str, str]:
    return {"Authorization": f"Bearer {agent.token}", "Content-Type": "application/x-www-form-urlencoded"}


def opened(port: int, appointment: Appointment) -> tuple[str, dict[str, str]]:
    """The claimant's link and the cookies its page sets when a browser opens it (CSRF, the link's browser)."""
    token = appointment.public_token
    page = raw_http(port, f"GET /join/{token} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    assert page.status == 200
    assert "csrftoken" in page.cookies
    return token, page.cookies
