"""Hostile input costs nothing (issue 9's audit findings, each a regression test that failed before): numbers
bounded before conversion, no 500 for times at the calendar's edge or lone surrogates, every 500 logged with
its traceback, an error answer never after a committed write, chunked and broken bodies refused, the lockout
and token guessing keyed on the real client address, and no caching of personal data."""

import io
import json
import logging
import time
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.db import OperationalError
from django.test import Client
from rest_framework.test import APIClient

from appointments.api.views import AppointmentViewSet
from appointments.models import Appointment
from claimants.models import ClaimantData
from meetings.models import Participant, Role
from tests.helpers import PASSWORD, patch_url, snapshot, staff

URL = "/api/v1/appointments"


class TestNumbers:
    @pytest.mark.parametrize("value", ["1e9999999", "1e-999999", "1e5000", "-1e31", 10**40, 1e300])
    def test_unreasonable_numbers_are_a_quick_422_with_the_contracts_message(
        self, api, department, appointment, value
    ) -> None:
        from claimants.models import ClaimantDataField, FieldType

        field = ClaimantDataField.objects.get(department=department, name="Incident date")
        field.type = FieldType.NUMBER
        field.save()
        item = ClaimantData.objects.get(claimant__appointment=appointment, field=field)
        before = snapshot(appointment)
        began = time.perf_counter()
        response = api.patch(
            patch_url(appointment), {"claimant": {"data": [{"id": str(item.pk), "value": value}]}}, format="json"
        )
        elapsed = time.perf_counter() - began
        assert response.status_code == 422
        message = response.json()["errors"]["claimant.data.0.value"][0]
        assert message.endswith("must be a number with at most 30 digits before and after the point.")
        assert "limit" not in message
        assert snapshot(appointment) == before
        assert elapsed < 5  # a guard against minutes of conversion, not a speed claim


class TestCalendarEdges:
    @pytest.mark.parametrize("when", ["9999-12-31T23:30:00Z", "9999-12-31T23:00:00Z"])
    def test_a_time_whose_meeting_would_leave_the_calendar_is_a_422(self, api, appointment, when) -> None:
        before = snapshot(appointment)
        response = api.patch(patch_url(appointment), {"appointment_at": when}, format="json")
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["appointment_at"]
        assert snapshot(appointment) == before
        created = api.post(
            URL,
            {
                "appointment_at": when,
                "duration_in_minutes": 60,
                "claimant": {"name": "A", "data": {"Case number": "1"}},
            },
            format="json",
        )
        assert created.status_code == 422

    @pytest.mark.parametrize("field", ["status", "features_bandwidth"])
    def test_a_lone_surrogate_repeated_by_a_message_is_a_422_not_a_500(self, api, appointment, field) -> None:
        body = ('{"' + field + '": "\\ud800"}').encode()
        response = api.generic("PATCH", patch_url(appointment), body, content_type="application/json")
        assert response.status_code == 422
        assert list(response.json()["errors"]) == [field]


class TestServerErrors:
    def test_every_500_is_logged_with_its_traceback(self, api, appointment, monkeypatch, caplog) -> None:
        def broken(self):
            raise RuntimeError("kaboom in a view")

        monkeypatch.setattr(AppointmentViewSet, "_pk", broken)
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=api._credentials["HTTP_AUTHORIZATION"])
        with caplog.at_level(logging.ERROR):
            response = client.get(patch_url(appointment))
        assert response.status_code == 500
        assert response.json() == {"message": "Server Error"}
        logged = [r for r in caplog.records if r.exc_info and "kaboom in a view" in str(r.exc_info[1])]
        assert logged, [r.getMessage() for r in caplog.records]

    def test_a_crash_outside_drf_under_the_api_is_logged_too(self, client, monkeypatch, caplog) -> None:
        from config import middleware

        def broken_resolver(*args, **kwargs):
            raise RuntimeError("kaboom in routing")

        monkeypatch.setattr("appointments.api.views.AppointmentViewSet.as_view", broken_resolver, raising=False)
        request_factory = Client(raise_request_exception=False)
        guard = middleware.ApiGuardMiddleware(lambda request: (_ for _ in ()).throw(RuntimeError("kaboom")))
        from django.test import RequestFactory

        request = RequestFactory().get("/api/v1/anything")
        with caplog.at_level(logging.ERROR):
            response = guard.process_exception(request, RuntimeError("kaboom in middleware"))
        assert response is not None
        assert response.status_code == 500
        assert any(r.exc_info and "kaboom in middleware" in str(r.exc_info[1]) for r in caplog.records)
        del request_factory


class TestNothingChangedOnError:
    def test_a_failure_after_the_write_answers_503_and_the_write_is_rolled_back(
        self, api, appointment, monkeypatch
    ) -> None:
        before = snapshot(appointment)

        def database_gone(self, *args, **kwargs):
            raise OperationalError("server closed the connection unexpectedly")

        monkeypatch.setattr(AppointmentViewSet, "_answer", database_gone)  # anything after the write fails
        response = api.patch(patch_url(appointment), {"duration_in_minutes": 20}, format="json")
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        assert snapshot(appointment) == before
        body = {"appointment_at": "2031-01-01T09:00:00Z", "duration_in_minutes": 30,
                "claimant": {"name": "Retry Me", "data": {"Case number": "R-1"}}}  # fmt: skip
        count = Appointment.objects.count()
        assert api.post(URL, body, format="json").status_code == 503
        assert Appointment.objects.count() == count  # a retry after Retry-After makes exactly one

    def test_a_chunked_body_is_refused_with_411_and_changes_nothing(self, api, appointment) -> None:
        before = snapshot(appointment)
        response = api.generic(
            "PATCH",
            patch_url(appointment),
            b"",
            content_type="application/json",
            HTTP_TRANSFER_ENCODING="chunked",
        )
        assert response.status_code == 411
        assert "Content-Length" in response.json()["message"]
        assert snapshot(appointment) == before

    def test_a_chunked_body_the_server_has_read_whole_is_applied(self, api, appointment) -> None:
        body = json.dumps({"duration_in_minutes": 35}).encode()
        response = api.generic(
            "PATCH",
            patch_url(appointment),
            b"",
            content_type="application/json",
            HTTP_TRANSFER_ENCODING="chunked",
            **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
        )
        assert response.status_code == 200, response.content
        appointment.refresh_from_db()
        assert appointment.duration_in_minutes == 35

    def test_an_empty_multipart_form_is_a_form_without_fields(self, api, appointment) -> None:
        body = b"--B--\r\n"
        url = f"/api/v1/appointments/{appointment.pk}/cancel"
        response = api.generic("POST", url, body, content_type="multipart/form-data; boundary=B")
        assert response.status_code == 200, response.content
        assert response.json()["data"]["status"] == "cancelled"

    @pytest.mark.parametrize(
        ("body", "content_type"),
        [
            (b"claimant%5Bname%5D=%FF%FE", "application/x-www-form-urlencoded"),
            (b"--B\r\nContent-Disposition: form-data; name=\"claimant[name]\"\r\n\r\n\xff\xfe\r\n--B--\r\n",
             "multipart/form-data; boundary=B"),
            (b"--B\r\nContent-Disposition: form-data; name=\"duration_in_minutes\"\r\n\r\n20",
             "multipart/form-data; boundary=B"),
            (b"--B\r\nContent-Disposition: form-data; name=\"duration_in_minutes\"\r\n\r\n20\r\n--C--\r\n",
             "multipart/form-data; boundary=B"),
        ],
    )  # fmt: skip
    def test_broken_or_non_utf8_form_bodies_are_400_and_change_nothing(
        self, api, appointment, body, content_type
    ) -> None:
        before = snapshot(appointment)
        response = api.generic("POST", patch_url(appointment, "?_method=PATCH"), body, content_type=content_type)
        assert response.status_code == 400, response.content
        assert set(response.json()) == {"message"}
        assert snapshot(appointment) == before


class TestAddresses:
    def test_behind_a_proxy_the_lockout_locks_the_attacker_not_the_staff_member(self, department, settings) -> None:
        settings.PROXY_COUNT = 1
        staff("victim", department)
        attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
        for _ in range(settings.AXES_FAILURE_LIMIT):
            attacker.post("/admin/login/", {"username": "victim", "password": "wrong"})
        assert attacker.post("/admin/login/", {"username": "victim", "password": PASSWORD}).status_code == 429
        victim = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
        response = victim.post("/admin/login/", {"username": "victim", "password": PASSWORD})
        assert response.status_code == 302

    def test_guessing_tokens_is_limited_per_address(self, agent, appointment, settings) -> None:
        settings.API_BAD_TOKEN_LIMIT_PER_MINUTE = 3
        guesser = APIClient(REMOTE_ADDR="192.0.2.50")
        guesser.credentials(HTTP_AUTHORIZATION="Bearer apt_" + "0" * 40)
        codes = [guesser.get(patch_url(appointment)).status_code for _ in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        limited = guesser.get(patch_url(appointment))
        assert int(limited["Retry-After"]) > 0
        assert agent.client().get(patch_url(appointment)).status_code == 200  # another address is not affected

    def test_a_valid_token_passes_from_an_address_limited_for_guessing(self, agent, appointment, settings) -> None:
        """Behind NAT, a shared egress or a proxy, one client's bad token must not block every integration."""
        settings.API_BAD_TOKEN_LIMIT_PER_MINUTE = 3
        guesser = APIClient(REMOTE_ADDR="192.0.2.50")
        guesser.credentials(HTTP_AUTHORIZATION="Bearer apt_" + "0" * 40)
        assert [guesser.get(patch_url(appointment)).status_code for _ in range(4)] == [401, 401, 401, 429]
        neighbour = APIClient(REMOTE_ADDR="192.0.2.50")
        neighbour.credentials(HTTP_AUTHORIZATION=f"Bearer {agent.token}")
        assert [neighbour.get(patch_url(appointment)).status_code for _ in range(5)] == [200] * 5
        assert guesser.get(patch_url(appointment)).status_code == 429  # valid tokens forgave nothing

    def test_only_failing_tokens_count_towards_the_limit(self, agent, appointment, settings) -> None:
        settings.API_BAD_TOKEN_LIMIT_PER_MINUTE = 3
        valid = APIClient(REMOTE_ADDR="192.0.2.51")
        valid.credentials(HTTP_AUTHORIZATION=f"Bearer {agent.token}")
        assert [valid.get(patch_url(appointment)).status_code for _ in range(5)] == [200] * 5
        guesser = APIClient(REMOTE_ADDR="192.0.2.51")
        guesser.credentials(HTTP_AUTHORIZATION="Bearer apt_" + "0" * 40)
        assert [guesser.get(patch_url(appointment)).status_code for _ in range(4)] == [401, 401, 401, 429]


def test_api_responses_are_never_cached(api, appointment, client) -> None:
    for response in (
        api.get(patch_url(appointment)),
        api.get(URL),
        api.get(f"{URL}/not-an-id"),
        client.get(URL),
        api.patch(patch_url(appointment), {"duration_in_minutes": 600}, format="json"),
    ):
        assert response["Cache-Control"] == "no-store", response.status_code


def test_the_vendors_own_form_example_creates_with_the_defaults(api, department) -> None:
    body = {
        "department": "",
        "appointment_at": "2031-02-01 09:00:00",
        "duration_in_minutes": "60",
        "is_interpreter_needed": "false",
        "interpreter_language": "",
        "features_bandwidth": "",
        "features_call_recording_enable": "",
        "features_screen_sharing_enable": "false",
        "use_custom_post_call_redirect": "",
        "claimant[name]": "Jan Kowalski",
        "claimant[data][0][name]": "Case number",
        "claimant[data][0][value]": "CASE-7",
    }
    response = api.post(URL, body, format="multipart")
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert data["features_bandwidth"] == department.features_bandwidth
    assert data["features_call_recording_enable"] is department.features_call_recording_enable
    assert data["features_screen_sharing_enable"] is False
    assert data["use_custom_post_call_redirect"] is False


def test_the_schema_describes_what_the_server_accepts() -> None:
    out = io.StringIO()
    call_command("spectacular", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    components = schema["components"]["schemas"]
    override = schema["paths"]["/api/v1/appointments/{appointment}"]["post"]["requestBody"]["content"]
    json_body = components[override["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert "required" not in json_body  # a PATCH: send only what changes
    form = components[override["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert {"claimant[name]", "claimant[data][0][id]", "claimant[data][0][value]"} <= set(form["properties"])
    assert "claimant" not in form["properties"]
    assert form["properties"]["is_interpreter_needed"]["type"] == "string"
    cancel = schema["paths"]["/api/v1/appointments/{appointment}/cancel"]["post"]["requestBody"]
    assert cancel["required"] is False  # every field optional: the body may be left out
    assert form["additionalProperties"] is False
    listing = schema["paths"]["/api/v1/appointments"]["get"]["parameters"]
    per_page = next(p for p in listing if p["name"] == "per_page")
    assert "maximum" not in per_page["schema"]  # more than 100 is read as 100, not refused
    interpreter = next(p for p in listing if p["name"] == "is_interpreter_needed")
    assert interpreter["schema"]["type"] == "string"
    assert json.dumps(interpreter["schema"]["enum"])


class TestBodiesCutShort:
    """In-process companions of tests/config/test_cut_short_bodies.py (the real server and socket)."""

    @staticmethod
    def short(client: Client, path: str, body: bytes, content_type: str, **extra: str):
        """A request that declares `body` but carries only its first half."""
        half = io.BytesIO(body[: len(body) // 2])
        meta: dict[str, Any] = {"CONTENT_LENGTH": str(len(body)), "wsgi.input": half, **extra}
        return client.generic("POST", path, body, content_type=content_type, **meta)

    def test_the_api_refuses_it_with_the_contracts_400(self, api, appointment) -> None:
        before = snapshot(appointment)
        body = json.dumps({"duration_in_minutes": 45}).encode()
        response = self.short(api, patch_url(appointment, "?_method=PATCH"), body, "application/json")
        assert response.status_code == 400
        assert response.json() == {"message": "The request body is shorter than its Content-Length."}
        assert snapshot(appointment) == before

    def test_the_back_office_refuses_it(self, department) -> None:
        staff("cut", department)
        body = f"username=cut&password={PASSWORD}".encode()
        response = self.short(Client(), "/admin/login/", body, "application/x-www-form-urlencoded")
        assert response.status_code == 400  # was the login form again, as if the password were wrong

    def test_the_claimants_page_refuses_it(self, client, appointment) -> None:
        client.get(f"/join/{appointment.public_token}")  # as the page's browser (its cookie for the link)
        body = json.dumps({"camera": True, "microphone": True}).encode()
        response = self.short(client, f"/join/{appointment.public_token}/device-check", body, "application/json")
        assert response.status_code == 400
        assert response.json()["message"] == "The request body is shorter than its Content-Length."
        claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
        assert claimant.device_checked_at is None


def test_a_form_posted_to_a_claimants_step_is_a_400_not_a_500(appointment) -> None:
    """The CSRF check reads a multipart form before the step does, so the raw body cannot be read again
    (RawPostDataException, a 500 before)."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.get(f"/join/{appointment.public_token}")
    token = client.cookies["csrftoken"].value
    url = f"/join/{appointment.public_token}/device-check"
    response = client.post(url, {"camera": "true", "microphone": "true", "csrfmiddlewaretoken": token})  # multipart
    assert response.status_code == 400
    assert response.json()["message"] == "The request body is not valid JSON."
    assert Participant.objects.get(appointment=appointment, role=Role.CLAIMANT).device_checked_at is None
