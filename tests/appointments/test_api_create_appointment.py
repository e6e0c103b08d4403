"""POST /api/v1/appointments: JSON and the original's form posts, defaults, rules, Idempotency-Key."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from appointments.models import Appointment, IdempotencyKey
from claimants.models import ClaimantData
from meetings.models import Meeting
from tests.factories import DepartmentFactory, in_days
from tests.helpers import postgres_only, run_together
from tests.support import Persona, persona

URL = "/api/v1/appointments"
WHEN = in_days(3, hour=9)


def minimal(**extra: Any) -> dict[str, Any]:
    body = {
        "appointment_at": WHEN.isoformat(),
        "duration_in_minutes": 45,
        "claimant": {"name": "Jane Doe", "data": [{"name": "Case number", "value": "C-1"}]},
    }
    return body | extra


def counts() -> tuple[int, int, int]:
    return Appointment.objects.count(), ClaimantData.objects.count(), Meeting.objects.count()


def test_create_returns_201_with_location_and_stores_everything(api, department) -> None:
    response = api.post(URL, minimal(), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert response["Location"] == f"http://testserver/api/v1/appointments/{data['id']}"
    assert response["ETag"]
    assert data["status"] == "scheduled"
    assert re.fullmatch(r"\d{9}", data["reference"])
    assert data["department"]["id"] == str(department.pk)  # the caller's only department
    appointment = Appointment.objects.with_related().get(pk=data["id"])
    assert appointment.appointment_at == WHEN
    assert appointment.claimant.name == "Jane Doe"
    assert {i.field.name: i.value for i in appointment.claimant.data.all()} == {
        "Case number": "C-1",
        "Incident date": None,
    }
    assert appointment.meeting.start_date == WHEN
    assert appointment.meeting.end_date == WHEN + timedelta(minutes=45)
    assert api.get(response["Location"]).json()["data"] == data


@pytest.mark.parametrize("fields", [1, 20])
def test_create_statements_do_not_grow_with_claimant_data(agent, fields) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import department_with_fields

    department = department_with_fields(agent.user, fields)
    agent.user.departments.remove(*agent.user.departments.exclude(pk=department.pk))
    client = agent.client()
    client.get(URL)  # the first use of a token records last_used_at
    body = minimal() | {"claimant": {"name": "Jane Doe", "data": {f"F{n}": f"v{n}" for n in range(fields)}}}
    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    # token; the department (the caller's, checked once) with its data fields in the same statement (SQLite reads
    # them in one more, after begin); begin; the appointment, claimant, data items (one insert), meeting and
    # participants (one insert), each with its history; the event; its task; its ledger entry (issue 20: the first
    # of its chain, no head to read); commit. No check before an insert, no savepoint (a drawn reference or meeting
    # id that is taken writes nothing and is drawn again), no read after: the answer is built from what was written.
    # (27 before issue 12, 20 before issue 26.2; bench/floor.py's hand-written create takes 17.)
    assert len(queries) == (17 if connection.vendor == "postgresql" else 18), [q["sql"][:80] for q in queries]


def test_every_field_as_form_data_exactly_as_the_original_is_sent(api, department) -> None:
    date_field = department.data_fields.get(name="Incident date")
    form = {
        "appointment_at": "2031-05-06 07:08:09",
        "duration_in_minutes": "30",
        "department": str(department.pk),
        "reference": "CLIENT-REF-1",
        "is_interpreter_needed": "1",
        "interpreter_language": "Polish",
        "status": "scheduled",
        "claimant[name]": "Jan Kowalski",
        "claimant[phone_number]": "07911 123456",
        "claimant[email]": "jan@example.com",
        "claimant[date_of_birth]": "1980-02-29",
        "claimant[data][0][name]": "Case number",
        "claimant[data][0][value]": "PL-9",
        "claimant[data][1][id]": str(date_field.pk),
        "claimant[data][1][value]": "2024-03-01",
        "features_call_recording_enable": "true",
        "features_breakout_room_enable": "false",
        "features_webcam_access_agent_enable": "0",
        "features_webcam_access_claimant_enable": "1",
        "features_webcam_background_blurring_enable": "false",
        "features_microphone_access_enable": "true",
        "features_screen_sharing_enable": "false",
        "features_messages_chat_enable": "true",
        "features_participant_list_enable": "0",
        "features_bandwidth": "medium",
        "use_custom_post_call_redirect": "true",
        "custom_user_post_call_redirect_url": "https://example.com/user-done",
        "custom_agent_post_call_redirect_url": "",
    }
    response = api.post(URL, form, format="multipart")
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert data["appointment_at"] == "2031-05-06T07:08:09.000Z"  # no offset: UTC
    assert data["reference"] == "CLIENT-REF-1"
    assert (data["is_interpreter_needed"], data["interpreter_language"]) == (True, "Polish")
    assert data["claimant"] | {"data": None} == {
        "name": "Jan Kowalski",
        "phone_number": "+447911123456",
        "email": "jan@example.com",
        "date_of_birth": "1980-02-29",
        "data": None,
    }
    assert {i["name"]: i["value"] for i in data["claimant"]["data"]} == {
        "Case number": "PL-9",
        "Incident date": "2024-03-01",
    }
    flags = {k: v for k, v in data.items() if k.startswith("features_")}
    assert flags == {
        "features_call_recording_enable": True,
        "features_breakout_room_enable": False,
        "features_webcam_access_agent_enable": False,
        "features_webcam_access_claimant_enable": True,
        "features_webcam_background_blurring_enable": False,
        "features_microphone_access_enable": True,
        "features_screen_sharing_enable": False,
        "features_messages_chat_enable": True,
        "features_participant_list_enable": False,
        "features_bandwidth": "medium",
    }
    assert data["use_custom_post_call_redirect"] is True
    assert data["custom_user_post_call_redirect_url"] == "https://example.com/user-done"
    assert data["custom_agent_post_call_redirect_url"] is None
    stored = Appointment.objects.get(pk=data["id"])
    assert stored.appointment_at == datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert stored.features_bandwidth == "medium"
    assert stored.claimant.phone_number == "+447911123456"


def test_urlencoded_create_with_data_by_name(api, department) -> None:
    body = (
        f"appointment_at={WHEN:%Y-%m-%dT%H:%M:%S}&duration_in_minutes=20&claimant%5Bname%5D=Form"
        "&claimant%5Bdata%5D%5BCase+number%5D=X-1&department="
    )
    response = api.generic("POST", URL, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201, response.json()
    item = ClaimantData.objects.get(claimant__appointment_id=response.json()["data"]["id"], field__name="Case number")
    assert item.value == "X-1"


def test_data_as_an_object_keyed_by_field_id(api, department) -> None:
    field = department.data_fields.get(name="Case number")
    response = api.post(URL, minimal(claimant={"name": "A", "data": {str(field.pk): "BY-ID"}}), format="json")
    assert response.status_code == 201
    assert response.json()["data"]["claimant"]["data"][0]["value"] == "BY-ID"


def test_feature_flags_default_from_the_department(api, department) -> None:
    department.features_call_recording_enable = True
    department.features_bandwidth = "low"
    department.save()
    data = api.post(URL, minimal(features_screen_sharing_enable=False), format="json").json()["data"]
    assert (data["features_call_recording_enable"], data["features_bandwidth"]) == (True, "low")
    assert data["features_screen_sharing_enable"] is False


class TestDepartment:
    def test_caller_with_two_departments_must_name_one(self, agent, department) -> None:
        second = DepartmentFactory.create(name="Second")
        second.members.add(agent.user)
        before = counts()
        response = agent.client().post(URL, minimal(), format="json")
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["department_id"]
        assert counts() == before
        named = agent.client().post(URL, minimal(department_id=str(second.pk), claimant={"name": "A"}), format="json")
        assert named.status_code == 201
        assert named.json()["data"]["department"]["name"] == "Second"

    def test_department_alias_and_foreign_department(self, api, department, other_department) -> None:
        assert api.post(URL, minimal(department=str(department.pk)), format="json").status_code == 201
        response = api.post(URL, minimal(department_id=str(other_department.pk)), format="json")
        assert response.status_code == 422
        assert response.json()["errors"] == {"department_id": ["The selected department id is invalid."]}

    def test_caller_without_departments_gets_422(self, db) -> None:
        loner = persona("loner")
        response = loner.client().post(URL, minimal(), format="json")
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["department_id"]


class TestRules:
    def test_client_reference_is_unique_within_the_department(
        self, api, department, superuser, other_department
    ) -> None:
        assert api.post(URL, minimal(reference="MINE-1"), format="json").status_code == 201
        before = counts()
        response = api.post(URL, minimal(reference="MINE-1"), format="json")
        assert response.status_code == 422
        assert response.json()["errors"] == {"reference": ["The reference has already been taken."]}
        assert counts() == before
        other = superuser.client().post(
            URL,
            minimal(reference="MINE-1", department_id=str(other_department.pk), claimant={"name": "B"}),
            format="json",
        )
        assert other.status_code == 201

    @pytest.mark.parametrize(
        ("body", "keys"),
        [
            ({"duration_in_minutes": 45, "claimant": {"name": "A"}}, {"appointment_at"}),
            ({"appointment_at": "2031-01-01T00:00:00Z", "claimant": {"name": "A"}}, {"duration_in_minutes"}),
            ({"appointment_at": "2031-01-01T00:00:00Z", "duration_in_minutes": 45}, {"claimant"}),
            ({"appointment_at": "2031-01-01T00:00:00Z", "duration_in_minutes": 45, "claimant": {}}, {"claimant.name"}),
        ],
    )
    def test_required_fields(self, api, department, body, keys) -> None:
        before = counts()
        response = api.post(URL, body, format="json")
        assert response.status_code == 422
        assert set(response.json()["errors"]) == keys
        assert counts() == before

    @pytest.mark.parametrize("name", ["", "   ", None])
    def test_a_blank_claimant_name_is_reported_once(self, api, department, name) -> None:
        response = api.post(URL, minimal(claimant={"name": name, "data": {"Case number": "C"}}), format="json")
        assert response.status_code == 422
        errors = response.json()["errors"]
        assert list(errors) == ["claimant.name"]
        assert len(errors["claimant.name"]) == 1
        assert response.json()["message"] == errors["claimant.name"][0]

    @pytest.mark.parametrize(
        ("change", "key"),
        [
            ({"claimant": {"name": "A"}}, "claimant.data.Case number"),
            ({"claimant": {"name": "A", "data": {"Case number": "", "Nope": "x"}}}, "claimant.data.Nope"),
            (
                {"claimant": {"name": "A", "data": {"Case number": "1", "Incident date": "tomorrow"}}},
                "claimant.data.Incident date",
            ),
            ({"claimant": {"name": "A", "data": [{"value": "x"}]}}, "claimant.data.0.id"),
            ({"status": "cancelled"}, "status"),
            ({"appointment_at": "2001-01-01T00:00:00Z"}, "appointment_at"),
            ({"duration_in_minutes": 481}, "duration_in_minutes"),
            ({"is_interpreter_needed": True}, "interpreter_language"),
            ({"use_custom_post_call_redirect": True}, "use_custom_post_call_redirect"),
            ({"claimant": {"name": "A", "phone_number": "123"}}, "claimant.phone_number"),
        ],
    )
    def test_rules_refuse_and_create_nothing(self, api, department, change, key) -> None:
        before = counts()
        response = api.post(URL, minimal(**change), format="json")
        assert response.status_code == 422, response.json()
        assert key in response.json()["errors"], response.json()
        assert counts() == before

    def test_read_only_and_unknown_fields_are_ignored(self, api, department) -> None:
        body = minimal(
            id="9a0f170e-0aa0-47db-ab14-4ddcdcbad061",
            url="https://evil.example.com",
            cancelled_at="2020-01-01T00:00:00Z",
            session_started_at="2020-01-01T00:00:00Z",
            meeting={"id": 1234567890, "room_url": "https://evil.example.com"},
            cancellation_reason="nope",
            public_token="chosen",
        )
        data = api.post(URL, body, format="json").json()["data"]
        assert data["id"] != body["id"]
        assert data["cancelled_at"] is None
        assert data["session_started_at"] is None
        assert data["meeting"]["room_url"].startswith("https://meet.jit.si/")
        assert data["cancellation_reason"] is None
        assert Appointment.objects.get(pk=data["id"]).public_token != "chosen"


class TestIdempotency:
    def test_retry_with_same_key_and_body_returns_the_first_response(self, api, department) -> None:
        first = api.post(URL, minimal(), format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
        before = counts()
        again = api.post(URL, minimal(), format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again["Location"] == first["Location"]
        assert counts() == before

    def test_same_key_different_body_is_422(self, api, department) -> None:
        api.post(URL, minimal(), format="json", HTTP_IDEMPOTENCY_KEY="k")
        before = counts()
        response = api.post(URL, minimal(duration_in_minutes=46), format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["Idempotency-Key"]
        assert counts() == before

    def test_keys_are_per_caller(self, api, agent, department) -> None:
        colleague = persona("colleague", department)
        api.post(URL, minimal(), format="json", HTTP_IDEMPOTENCY_KEY="shared")
        response = colleague.client().post(URL, minimal(), format="json", HTTP_IDEMPOTENCY_KEY="shared")
        assert response.status_code == 201
        assert Appointment.objects.count() == 2

    def test_keys_expire_after_24_hours(self, api, department) -> None:
        api.post(URL, minimal(), format="json", HTTP_IDEMPOTENCY_KEY="old")
        IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
        response = api.post(URL, minimal(), format="json", HTTP_IDEMPOTENCY_KEY="old")
        assert response.status_code == 201
        assert Appointment.objects.count() == 2
        assert IdempotencyKey.objects.count() == 1

    def test_a_failed_request_does_not_take_the_key(self, api, department) -> None:
        assert api.post(URL, minimal(duration_in_minutes=1), format="json", HTTP_IDEMPOTENCY_KEY="f").status_code == 422
        assert not IdempotencyKey.objects.exists()
        assert api.post(URL, minimal(), format="json", HTTP_IDEMPOTENCY_KEY="f").status_code == 201

    @pytest.mark.parametrize("key", ["", "x" * 256, "with space", "ünïcode"])
    def test_malformed_key_is_422(self, api, department, key) -> None:
        response = api.post(URL, minimal(), format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code == 422
        assert Appointment.objects.count() == 0


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_exactly_one(agent: Persona, department) -> None:
    def post() -> tuple[int, str]:
        response = agent.client().post(URL, minimal(), format="json", HTTP_IDEMPOTENCY_KEY="race")
        return response.status_code, response.json()["data"]["id"]

    results = run_together([post] * 6)
    assert {status for status, _ in results} == {201}
    assert len({appointment_id for _, appointment_id in results}) == 1
    assert Appointment.objects.count() == 1
    assert Meeting.objects.count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_with_one_client_reference_create_one(agent: Persona, department) -> None:
    def post() -> int:
        return agent.client().post(URL, minimal(reference="SAME"), format="json").status_code

    assert sorted(run_together([post] * 4)) == [201, 422, 422, 422]
    assert Appointment.objects.filter(reference="SAME").count() == 1
