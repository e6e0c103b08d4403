"""PATCH /api/v1/appointments/{appointment} and the original's POST `_method=PATCH`, end to end."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from appointments.api.views import AppointmentViewSet
from appointments.models import Appointment
from claimants.models import ClaimantData, FieldType
from meetings.models import Meeting
from tests.factories import (
    ClaimantDataFieldFactory,
    DepartmentFactory,
    department_with_fields,
    in_days,
    make_appointment,
)


def url(appointment: Appointment, query: str = "") -> str:
    return f"/api/v1/appointments/{appointment.pk}{query}"


def snapshot(appointment: Appointment) -> dict[str, Any]:
    """Every stored value of the appointment and its parts, to prove a request changed nothing."""
    fresh = Appointment.objects.get(pk=appointment.pk)
    rows: dict[str, Any] = {f.attname: getattr(fresh, f.attname) for f in Appointment._meta.concrete_fields}
    claimant = fresh.claimant
    rows["claimant"] = {f.attname: getattr(claimant, f.attname) for f in type(claimant)._meta.concrete_fields}
    rows["data"] = sorted((str(d.pk), str(d.field_id), d.value) for d in ClaimantData.objects.filter(claimant=claimant))
    meeting = Meeting.objects.get(appointment=fresh)
    rows["meeting"] = (meeting.pk, meeting.room_url, meeting.start_date, meeting.end_date)
    return rows


def data_item(appointment: Appointment, name: str) -> ClaimantData:
    return ClaimantData.objects.get(claimant__appointment=appointment, field__name=name)


# --- every field of the seed's body ---------------------------------------------------------------------------

FUTURE = in_days(10, hour=8)
SEED_FIELDS = [
    ("appointment_at", FUTURE.strftime("%Y-%m-%dT%H:%M:%S.000Z"), FUTURE.strftime("%Y-%m-%dT%H:%M:%S.000Z")),
    ("duration_in_minutes", 90, 90),
    ("features_call_recording_enable", True, True),
    ("features_breakout_room_enable", False, False),
    ("features_webcam_access_agent_enable", False, False),
    ("features_webcam_access_claimant_enable", False, False),
    ("features_webcam_background_blurring_enable", False, False),
    ("features_microphone_access_enable", False, False),
    ("features_screen_sharing_enable", False, False),
    ("features_messages_chat_enable", False, False),
    ("features_participant_list_enable", False, False),
    ("features_bandwidth", "medium", "medium"),
    ("custom_user_post_call_redirect_url", "https://example.com/u", "https://example.com/u"),
    ("custom_agent_post_call_redirect_url", "https://example.com/a", "https://example.com/a"),
    ("status", "waiting", "waiting"),
]


@pytest.mark.parametrize(("field", "sent", "shown"), SEED_FIELDS)
def test_patch_each_seed_field(api, appointment, field: str, sent: Any, shown: Any) -> None:
    before = snapshot(appointment)
    response = api.patch(url(appointment), {field: sent}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["data"][field] == shown
    after = snapshot(appointment)
    changed = {key for key in after if after[key] != before[key]} - {"updated_at", "meeting"}
    column = "status" if field == "status" else field
    assert changed == {column}


def test_patch_interpreter_fields_together(api, appointment) -> None:
    response = api.patch(
        url(appointment), {"is_interpreter_needed": True, "interpreter_language": "Welsh"}, format="json"
    )
    assert response.status_code == 200
    appointment.refresh_from_db()
    assert (appointment.is_interpreter_needed, appointment.interpreter_language) == (True, "Welsh")


def test_patch_custom_redirect_with_its_url(api, appointment) -> None:
    body = {"use_custom_post_call_redirect": True, "custom_user_post_call_redirect_url": "https://example.com/done"}
    assert api.patch(url(appointment), body, format="json").status_code == 200
    appointment.refresh_from_db()
    assert appointment.use_custom_post_call_redirect is True


def test_patch_department_id_to_another_of_the_callers_departments(api, agent, appointment) -> None:
    target = DepartmentFactory.create(name="Second")
    target.members.add(agent.user)
    ClaimantDataFieldFactory.create(department=target, name="Case number", type=FieldType.STRING, required=True)
    response = api.patch(url(appointment), {"department_id": str(target.pk)}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["department"] == {"id": str(target.pk), "name": "Second"}
    appointment.refresh_from_db()
    assert appointment.department_id == target.pk


def test_patch_department_outside_the_callers_is_422(api, other_department, appointment) -> None:
    before = snapshot(appointment)
    response = api.patch(url(appointment), {"department_id": str(other_department.pk)}, format="json")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["department_id"]
    assert snapshot(appointment) == before


def test_patch_claimant_fields_and_data(api, appointment) -> None:
    date_item = data_item(appointment, "Incident date")
    body = {
        "claimant": {
            "name": "Ada King",
            "phone_number": "07911 123457",
            "email": "ada.king@example.com",
            "date_of_birth": "1815-12-10",
            "data": [{"id": str(date_item.pk), "value": "2024-06-01"}],
        }
    }
    response = api.patch(url(appointment), body, format="json")
    assert response.status_code == 200, response.json()
    claimant = response.json()["data"]["claimant"]
    assert (claimant["name"], claimant["phone_number"], claimant["email"], claimant["date_of_birth"]) == (
        "Ada King",
        "+447911123457",
        "ada.king@example.com",
        "1815-12-10",
    )
    assert {i["name"]: i["value"] for i in claimant["data"]} == {"Case number": "CASE-1", "Incident date": "2024-06-01"}
    date_item.refresh_from_db()
    assert date_item.value == "2024-06-01"


def test_patch_moves_meeting_with_appointment(api, appointment) -> None:
    response = api.patch(
        url(appointment), {"appointment_at": "2030-03-04T05:06:07", "duration_in_minutes": 30}, format="json"
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["appointment_at"] == "2030-03-04T05:06:07.000Z"  # no offset: read as UTC
    assert (data["meeting"]["start_date"], data["meeting"]["end_date"]) == (
        "2030-03-04T05:06:07Z",
        "2030-03-04T05:36:07Z",
    )
    meeting = Meeting.objects.get(appointment=appointment)
    assert meeting.start_date == datetime(2030, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_patch_converts_offsets_to_utc(api, appointment) -> None:
    response = api.patch(url(appointment), {"appointment_at": "2030-03-04T10:00:00+02:00"}, format="json")
    assert response.json()["data"]["appointment_at"] == "2030-03-04T08:00:00.000Z"


def test_patch_cancels_with_a_reason_and_stamps_the_time(api, appointment) -> None:
    response = api.patch(
        url(appointment), {"status": "cancelled", "cancellation_reason": "No longer needed"}, format="json"
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["status"], data["cancellation_reason"]) == ("cancelled", "No longer needed")
    assert data["cancelled_at"] is not None
    appointment.refresh_from_db()
    assert appointment.cancelled_at is not None


def test_patch_with_an_empty_body_changes_nothing(api, appointment) -> None:
    before = snapshot(appointment)
    response = api.patch(url(appointment), {}, format="json")
    assert response.status_code == 200
    assert snapshot(appointment) == before


# --- what is ignored --------------------------------------------------------------------------------------------


def test_read_only_and_unknown_fields_are_never_written(api, appointment) -> None:
    read = api.get(url(appointment)).json()["data"]
    before = snapshot(appointment)
    echoed = {
        **read,
        "id": "9a0f170e-0aa0-47db-ab14-4ddcdcbad061",
        "reference": "999999999",
        "url": "https://evil.example.com/x",
        "created_at": "2000-01-01T00:00:00.000Z",
        "cancelled_at": "2000-01-01T00:00:00.000Z",
        "session_started_at": "2000-01-01T00:00:00.000Z",
        "session_ended_at": "2000-01-01T00:00:00.000Z",
        "meeting": {
            "id": 1234567890,
            "room_url": "https://evil.example.com/room",
            "start_date": "2000-01-01T00:00:00Z",
        },
        "department": {"id": "9a0f170e-0aa0-47db-ab14-4ddcdcbad061", "name": "Evil"},
        "public_token": "chosen",
        "is_superuser": True,
        "claimant": {**read["claimant"], "appointment_id": "x", "data": read["claimant"]["data"]},
    }
    response = api.patch(url(appointment), echoed, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["data"] == read | {"claimant": read["claimant"]}
    assert snapshot(appointment) == before


# --- the original's method override and form bodies ----------------------------------------------------------


def twin_appointments(department) -> tuple[Appointment, Appointment]:
    claimant = {"name": "Twin", "data": {"Case number": "T-1"}}
    return make_appointment(department, claimant=claimant), make_appointment(department, claimant=claimant)


def comparable(data: dict[str, Any]) -> dict[str, Any]:
    unique = {"id", "reference", "url", "created_at", "meeting"}
    claimant = {
        **data["claimant"],
        "data": [{k: v for k, v in i.items() if k != "id"} for i in data["claimant"]["data"]],
    }
    return {k: v for k, v in data.items() if k not in unique} | {"claimant": claimant}


def test_multipart_override_equals_json_patch(api, department) -> None:
    json_one, form_one = twin_appointments(department)
    when = in_days(7, hour=15).strftime("%Y-%m-%d %H:%M:%S")
    json_body = {
        "appointment_at": when,
        "duration_in_minutes": 30,
        "is_interpreter_needed": True,
        "interpreter_language": "Urdu",
        "features_call_recording_enable": True,
        "features_screen_sharing_enable": False,
        "features_bandwidth": "low",
        "use_custom_post_call_redirect": True,
        "custom_user_post_call_redirect_url": "https://example.com/thanks",
        "custom_agent_post_call_redirect_url": None,
        "status": "waiting",
        "claimant": {
            "name": "Twin Changed",
            "email": None,
            "phone_number": "+44 20 7123 4567",
            "date_of_birth": "1990-05-17",
            "data": [
                {"id": str(data_item(json_one, "Case number").pk), "value": "T-2"},
                {"id": str(data_item(json_one, "Incident date").pk), "value": "2024-01-31"},
            ],
        },
    }
    form_body = {
        "appointment_at": when,
        "duration_in_minutes": "30",
        "is_interpreter_needed": "1",
        "interpreter_language": "Urdu",
        "features_call_recording_enable": "true",
        "features_screen_sharing_enable": "0",
        "features_bandwidth": "low",
        "use_custom_post_call_redirect": "true",
        "custom_user_post_call_redirect_url": "https://example.com/thanks",
        "custom_agent_post_call_redirect_url": "",
        "status": "waiting",
        "claimant[name]": "Twin Changed",
        "claimant[email]": "",
        "claimant[phone_number]": "+44 20 7123 4567",
        "claimant[date_of_birth]": "1990-05-17",
        "claimant[data][0][id]": str(data_item(form_one, "Case number").pk),
        "claimant[data][0][value]": "T-2",
        "claimant[data][1][id]": str(data_item(form_one, "Incident date").pk),
        "claimant[data][1][value]": "2024-01-31",
    }
    by_json = api.patch(url(json_one), json_body, format="json")
    by_form = api.post(url(form_one, "?_method=PATCH"), form_body, format="multipart")
    assert by_json.status_code == by_form.status_code == 200, (by_json.json(), by_form.json())
    assert comparable(by_form.json()["data"]) == comparable(by_json.json()["data"])
    snap_json, snap_form = snapshot(json_one), snapshot(form_one)
    for key in ("status", "duration_in_minutes", "interpreter_language", "features_bandwidth", "appointment_at"):
        assert snap_json[key] == snap_form[key]
    assert snap_form["claimant"]["email"] is None


@pytest.mark.parametrize(
    ("how", "extra"),
    [
        ("query", {}),
        ("header", {"HTTP_X_HTTP_METHOD_OVERRIDE": "PATCH"}),
        ("form field", {}),
    ],
)
def test_urlencoded_override_in_every_form(api, appointment, how: str, extra: dict[str, str]) -> None:
    body = "duration_in_minutes=75&claimant%5Bname%5D=Form+Name"
    query = "?_method=patch" if how == "query" else ""
    if how == "form field":
        body += "&_method=PATCH"
    response = api.generic(
        "POST", url(appointment, query), body, content_type="application/x-www-form-urlencoded", **extra
    )
    assert response.status_code == 200, response.content
    appointment.refresh_from_db()
    assert appointment.duration_in_minutes == 75
    assert appointment.claimant.name == "Form Name"


def test_post_without_override_is_405_and_writes_nothing(api, appointment) -> None:
    before = snapshot(appointment)
    response = api.post(url(appointment), {"duration_in_minutes": 75}, format="json")
    assert response.status_code == 405
    assert response.json()["message"].startswith("The POST method is not supported")
    assert snapshot(appointment) == before


@pytest.mark.parametrize("override", ["DELETE", "PUT", "GET"])
def test_post_overrides_other_than_patch_are_not_honoured(api, appointment, override: str) -> None:
    before = snapshot(appointment)
    response = api.post(url(appointment, f"?_method={override}"), {"duration_in_minutes": 75}, format="json")
    assert response.status_code == 405
    assert snapshot(appointment) == before


def test_safe_method_with_override_never_writes(api, appointment) -> None:
    before = snapshot(appointment)
    response = api.get(url(appointment, "?_method=PATCH&duration_in_minutes=75"), HTTP_X_HTTP_METHOD_OVERRIDE="PATCH")
    assert response.status_code == 200
    assert snapshot(appointment) == before


@pytest.mark.parametrize("method", ["put", "delete"])
def test_put_and_delete_are_not_allowed(api, appointment, method: str) -> None:
    response = getattr(api, method)(url(appointment), {}, format="json")
    assert response.status_code == 405
    assert set(response.json()) == {"message"}
    assert "PATCH" in response["Allow"]


def test_form_indexes_may_skip_and_errors_name_them(api, appointment) -> None:
    body = {"claimant[data][3][id]": str(data_item(appointment, "Case number").pk), "claimant[data][3][value]": ""}
    response = api.post(url(appointment, "?_method=PATCH"), body, format="multipart")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["claimant.data.3.value"]


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


def test_database_unavailable_is_503_with_retry_after(api, appointment, monkeypatch) -> None:
    def down(self):
        raise OperationalError("connection refused")

    monkeypatch.setattr(AppointmentViewSet, "get_object", down)
    response = api.patch(url(appointment), {"duration_in_minutes": 30}, format="json")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert set(response.json()) == {"message"}


def test_an_unexpected_error_is_a_json_500_without_traceback(api, appointment, monkeypatch) -> None:
    def broken(self):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(AppointmentViewSet, "get_object", broken)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=api._credentials["HTTP_AUTHORIZATION"])
    response = client.get(url(appointment))
    assert response.status_code == 500
    assert response.json() == {"message": "Server Error"}
    assert b"secret internals" not in response.content


# --- If-Match ---------------------------------------------------------------------------------------------------


def test_stale_if_match_is_412_and_changes_nothing(api, appointment) -> None:
    etag = api.get(url(appointment))["ETag"]
    assert (
        api.patch(url(appointment), {"duration_in_minutes": 50}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    )
    before = snapshot(appointment)
    response = api.patch(url(appointment), {"duration_in_minutes": 70}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    assert set(response.json()) == {"message"}
    assert snapshot(appointment) == before


def test_current_if_match_and_patch_etag_chain(api, appointment) -> None:
    etag = api.get(url(appointment))["ETag"]
    first = api.patch(url(appointment), {"duration_in_minutes": 50}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    assert first["ETag"] != etag
    second = api.patch(url(appointment), {"duration_in_minutes": 55}, format="json", HTTP_IF_MATCH=first["ETag"])
    assert second.status_code == 200
    assert api.patch(url(appointment), {"duration_in_minutes": 60}, format="json", HTTP_IF_MATCH="*").status_code == 200
    weak = "W/" + second["ETag"]
    assert (
        api.patch(url(appointment), {"duration_in_minutes": 65}, format="json", HTTP_IF_MATCH=weak).status_code == 412
    )


# --- query count ------------------------------------------------------------------------------------------------


def patch_queries(agent, fields: int) -> int:
    appointment = make_appointment(department_with_fields(agent.user, fields))
    items = ClaimantData.objects.filter(claimant__appointment=appointment)
    body = {
        "duration_in_minutes": 35,
        "claimant": {"name": "New", "data": [{"id": str(item.pk), "value": f"v{n}"} for n, item in enumerate(items)]},
    }
    client = agent.client()
    client.get(f"/api/v1/appointments/{appointment.pk}")  # records the token's first use
    with CaptureQueriesContext(connection) as queries:
        response = client.patch(f"/api/v1/appointments/{appointment.pk}", body, format="json")
    assert response.status_code == 200, response.json()
    assert all(i["value"] is not None for i in response.json()["data"]["claimant"]["data"])
    return len(queries)


def test_patch_query_count_does_not_grow_with_claimant_data(agent) -> None:
    few, many = patch_queries(agent, 1), patch_queries(agent, 30)
    assert few == many
    # token; read (appointment, data items); savepoint; lock; data items; 4 updates (appointment, claimant, data in
    # one statement, meeting) each with its history insert; release; read-back (appointment, data items)
    assert many <= 17


def test_patch_of_an_unchanged_body_writes_nothing(api, appointment) -> None:
    with CaptureQueriesContext(connection) as queries:
        api.patch(url(appointment), {"duration_in_minutes": appointment.duration_in_minutes}, format="json")
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    assert [w for w in writes if "knox" not in w and "apitoken" not in w.lower()] == []


def test_timestamps_are_utc_with_z(api, appointment) -> None:
    data = api.patch(url(appointment), {"status": "in_progress"}, format="json").json()["data"]
    assert data["session_started_at"].endswith("Z")
    started = datetime.fromisoformat(data["session_started_at"].replace("Z", "+00:00"))
    assert abs(started - datetime.now(UTC)) < timedelta(minutes=1)


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
