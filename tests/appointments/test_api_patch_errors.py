"""PATCH errors in Laravel's shapes: validation, malformed bodies, limits, throttling, an unavailable
database; a failed request changes nothing."""

import json

import pytest
from django.db import OperationalError
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from appointments.api.views import AppointmentViewSet
from appointments.models import Appointment
from tests.helpers import data_item, snapshot
from tests.helpers import patch_url as url

# --- errors -----------------------------------------------------------------------------------------------------


def test_validation_errors_in_laravels_shape_and_nothing_changes(api, appointment) -> None:
    before = snapshot(appointment)
    body = {
        "duration_in_minutes": 600,
        "features_bandwidth": "ultra",
        "custom_user_post_call_redirect_url": "ftp://example.com",
        "status": "completed",
        "claimant": {"name": "Valid Name", "data": [{"id": "nope", "value": "x"}]},
        "features_call_recording_enable": "maybe",
    }
    response = api.patch(url(appointment), body, format="json")
    assert response.status_code == 422
    payload = response.json()
    assert set(payload) == {"message", "errors"}
    assert set(payload["errors"]) == {
        "duration_in_minutes",
        "features_bandwidth",
        "custom_user_post_call_redirect_url",
        "claimant.data.0.id",
        "features_call_recording_enable",
    }
    total = sum(len(messages) for messages in payload["errors"].values())
    first = next(iter(payload["errors"].values()))[0]
    assert payload["message"] == f"{first} (and {total - 1} more errors)"
    assert snapshot(appointment) == before


def test_rule_errors_leave_every_part_unchanged(api, appointment) -> None:
    """Valid claimant and data changes in a request that breaks a rule are not written either."""
    before = snapshot(appointment)
    body = {
        "status": "completed",  # scheduled -> completed is not allowed
        "duration_in_minutes": 20,
        "claimant": {"name": "Changed", "data": [{"id": str(data_item(appointment, "Case number").pk), "value": "Z"}]},
    }
    response = api.patch(url(appointment), body, format="json")
    assert response.status_code == 422
    assert response.json() == {
        "message": "The status cannot change from scheduled to completed.",
        "errors": {"status": ["The status cannot change from scheduled to completed."]},
    }
    assert snapshot(appointment) == before


@pytest.mark.parametrize(
    "field",
    [
        "appointment_at",
        "duration_in_minutes",
        "department_id",
        "features_bandwidth",
        "features_call_recording_enable",
        "use_custom_post_call_redirect",
        "claimant",
    ],
)
def test_required_fields_cannot_be_null(api, appointment, field: str) -> None:
    before = snapshot(appointment)
    response = api.patch(url(appointment), {field: None}, format="json")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]
    assert "may not be null" in response.json()["message"]
    assert snapshot(appointment) == before


def test_nested_required_field_cannot_be_null(api, appointment) -> None:
    response = api.patch(url(appointment), {"claimant": {"name": None}}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"] == {"claimant.name": ["The claimant.name field may not be null."]}


def test_one_error_has_no_more_suffix(api, appointment) -> None:
    response = api.patch(url(appointment), {"duration_in_minutes": 4}, format="json")
    assert response.json()["message"] == response.json()["errors"]["duration_in_minutes"][0]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"duration_in_minutes": ', "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'"just a string"', "application/json"),
        (b"\xff\xfe{}", "application/json"),
    ],
)
def test_malformed_bodies_are_400(api, appointment, body: bytes, content_type: str) -> None:
    before = snapshot(appointment)
    response = api.generic("PATCH", url(appointment), body, content_type=content_type)
    assert response.status_code == 400
    assert set(response.json()) == {"message"}
    assert snapshot(appointment) == before


def test_unsupported_media_type_is_415(api, appointment) -> None:
    response = api.generic("PATCH", url(appointment), b"duration=5", content_type="text/plain")
    assert response.status_code == 415
    assert set(response.json()) == {"message"}


def test_body_too_large_is_413(api, appointment, settings) -> None:
    big = json.dumps({"claimant": {"name": "x" * (settings.API_MAX_BODY_BYTES + 1)}})
    response = api.generic("PATCH", url(appointment), big, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"message": "The request body is too large."}


def test_deeply_nested_json_is_400(api, appointment) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    response = api.generic(
        "PATCH", url(appointment), '{"claimant": ' + deep[:200_000] + "}", content_type="application/json"
    )
    assert response.status_code in (400, 413)
    assert set(response.json()) == {"message"}
    moderately = '{"claimant": {"data": ' + "[" * 50 + "]" * 50 + "}}"
    response = api.generic("PATCH", url(appointment), moderately, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["message"]


def test_thousands_of_nested_brackets_are_400(api, appointment) -> None:
    key = "claimant" + "[a]" * 3000
    response = api.generic(
        "POST", url(appointment, "?_method=PATCH"), f"{key}=1", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "nested" in response.json()["message"]


def test_too_many_form_fields_is_413(api, appointment, settings) -> None:
    body = "&".join(f"f{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 10))
    response = api.generic(
        "POST", url(appointment, "?_method=PATCH"), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert response.json() == {"message": "Too many form fields."}


def test_a_key_that_is_value_and_list_is_400(api, appointment) -> None:
    body = "claimant=x&claimant%5Bname%5D=y"
    response = api.generic(
        "POST", url(appointment, "?_method=PATCH"), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400


def test_null_characters_are_refused_not_a_500(api, appointment) -> None:
    item = data_item(appointment, "Case number")
    before = snapshot(appointment)
    for body, key in [
        ({"claimant": {"name": "A\x00B"}}, "claimant.name"),
        ({"claimant": {"data": [{"id": str(item.pk), "value": "C\x00D"}]}}, "claimant.data.0.value"),
        # A lone surrogate, as a JSON escape on the wire: PostgreSQL could not store it.
        (f'{{"claimant": {{"data": [{{"id": "{item.pk}", "value": "\\ud800"}}]}}}}', "claimant.data.0.value"),
    ]:
        raw = body if isinstance(body, str) else json.dumps(body)
        response = api.generic("PATCH", url(appointment), raw, content_type="application/json")
        assert response.status_code == 422
        assert list(response.json()["errors"]) == [key]
    assert snapshot(appointment) == before


def test_data_value_must_be_a_scalar(api, appointment) -> None:
    item = data_item(appointment, "Case number")
    response = api.patch(
        url(appointment), {"claimant": {"data": [{"id": str(item.pk), "value": {"a": 1}}]}}, format="json"
    )
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["claimant.data.0.value"]


def test_throttled_requests_get_429_with_retry_after(api, appointment, monkeypatch) -> None:
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min"})
    assert api.get(url(appointment)).status_code == 200
    assert api.get(url(appointment)).status_code == 200
    response = api.get(url(appointment))
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert set(response.json()) == {"message"}


def test_the_limit_is_one_counter_per_user_and_minute_and_the_next_minute_starts_afresh(
    api, appointment, monkeypatch
) -> None:
    from django.core.cache import cache

    from config.api.throttling import WindowRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min"})
    now = [600.0 * 60 + 50]  # 50 s into a minute
    monkeypatch.setattr(WindowRateThrottle, "timer", lambda self: now[0])
    assert [api.get(url(appointment)).status_code for _ in range(3)] == [200, 200, 429]
    user_id = appointment.department.members.get().pk
    assert cache.get(f"throttle_user_{user_id}:600") == 3  # an integer, not a list of times
    assert api.get(url(appointment))["Retry-After"] == "10"
    now[0] += 10
    assert api.get(url(appointment)).status_code == 200


def test_database_unavailable_is_503_with_retry_after(api, appointment, monkeypatch) -> None:
    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("appointments.api.views.appointment_update", down)
    response = api.patch(url(appointment), {"duration_in_minutes": 30}, format="json")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert set(response.json()) == {"message"}


def test_an_unexpected_error_is_a_json_500_without_traceback(api, appointment, monkeypatch) -> None:
    def broken(self):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(AppointmentViewSet, "_pk", broken)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=api._credentials["HTTP_AUTHORIZATION"])
    response = client.get(url(appointment))
    assert response.status_code == 500
    assert response.json() == {"message": "Server Error"}
    assert b"secret internals" not in response.content


@pytest.mark.parametrize(
    "body",
    [
        "0=a&1=b",
        "claimant%5Bdata%5D%5B%C2%B9%5D%5Bid%5D=x",
        "claimant%5Bdata%5D%5B%C2%B9%5D=x",
        "_method=PATCH&claimant%5Bdata%5D%5B%C2%B9%5D=x",
    ],
)
def test_odd_form_keys_found_by_fuzzing_are_never_a_500(api, appointment, body) -> None:
    before = snapshot(appointment)
    for path in (url(appointment, "?_method=PATCH"), url(appointment, "/cancel"), "/api/v1/appointments"):
        response = api.generic("POST", path, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500, (path, response.content)
        assert response["Content-Type"] == "application/json"
    if snapshot(appointment) != before:  # only the cancel may have changed it, and only to cancelled
        assert Appointment.objects.get(pk=appointment.pk).status == "cancelled"
