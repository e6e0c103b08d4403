"""The original's POST `_method=PATCH` override and its form bodies, which must equal the JSON PATCH."""

from typing import Any

import pytest

from appointments.models import Appointment
from tests.factories import (
    in_days,
    make_appointment,
)
from tests.helpers import claimant_waits_while_scheduled, data_item, snapshot
from tests.helpers import patch_url as url

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
    for twin in (json_one, form_one):  # `waiting` needs the claimant in the waiting room (issue 17.5)
        claimant_waits_while_scheduled(twin)
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


@pytest.mark.parametrize("value", ["DELETE", "anything", ""])
def test_a_real_patch_ignores_method_in_the_query(api, appointment, value: str) -> None:
    """Laravel reads `_method` on POST only; a PATCH that carries one is still the PATCH (the schema omits it)."""
    response = api.patch(url(appointment, f"?_method={value}"), {"duration_in_minutes": 75}, format="json")
    assert response.status_code == 200
    appointment.refresh_from_db()
    assert appointment.duration_in_minutes == 75


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
