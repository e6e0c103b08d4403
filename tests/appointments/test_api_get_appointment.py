"""GET /api/v1/appointments/{appointment}: the representation, authentication, tenancy, ETag, query count."""

import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke
from appointments.shape import ADDITIVE, KEYS, ClaimantShown, ItemShown, MeetingShown
from tests.factories import department_with_fields, make_appointment
from tests.support import persona

# The keys of an appointment without additive ones set, in their order: the shape's (appointments.shape; its test
# holds it to the contract's list).
SEED_KEYS = [key for key in KEYS if key not in ADDITIVE]
MILLIS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def url(appointment_id) -> str:
    return f"/api/v1/appointments/{appointment_id}"


def test_get_returns_the_seed_representation_in_order(api, appointment) -> None:
    response = api.get(url(appointment.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["data"]
    data = body["data"]
    assert list(data) == SEED_KEYS
    assert data["id"] == str(appointment.pk)
    assert isinstance(data["reference"], str)
    assert re.fullmatch(r"\d{9}", data["reference"])
    assert MILLIS.match(data["appointment_at"])
    assert MILLIS.match(data["created_at"])
    assert data["cancelled_at"] is None
    assert data["session_started_at"] is None
    assert data["status"] == "scheduled"
    assert data["url"] == appointment.url
    assert data["department"] == {"id": str(appointment.department.pk), "name": "Claims"}
    # An additive key (claimant.erased_at, issue 21.2) is absent where unset.
    assert list(data["claimant"]) == [
        key for key in ClaimantShown.__annotations__ if key in ClaimantShown.__required_keys__
    ]
    assert data["claimant"]["phone_number"] == "+447911123456"
    assert [list(item) for item in data["claimant"]["data"]] == [list(ItemShown.__annotations__)] * 2
    assert [(i["name"], i["value"], i["type"], i["required"]) for i in data["claimant"]["data"]] == [
        ("Case number", "CASE-1", "string", True),
        ("Incident date", None, "date", False),
    ]
    meeting = data["meeting"]
    assert list(meeting) == list(MeetingShown.__annotations__)
    assert 1_000_000_000 <= meeting["id"] <= 9_999_999_999
    assert meeting["room_url"].startswith("https://meet.jit.si/")
    assert SECONDS.match(meeting["start_date"])
    assert SECONDS.match(meeting["end_date"])
    assert data["features_bandwidth"] == "high"


def test_get_accepts_a_trailing_slash(api, appointment) -> None:
    assert api.get(url(appointment.pk) + "/").status_code == 200


def test_appointment_of_another_department_is_the_same_404_as_a_missing_one(other_agent, appointment) -> None:
    client = other_agent.client()
    foreign = client.get(url(appointment.pk))
    missing = client.get(url(uuid.uuid4()))
    malformed = client.get(url("not-a-uuid"))
    unrouted = client.get("/api/v1/nothing/here")
    assert foreign.status_code == missing.status_code == malformed.status_code == unrouted.status_code == 404
    assert foreign.content == missing.content == malformed.content == unrouted.content == b'{"message":"Not found."}'
    assert foreign["Content-Type"] == unrouted["Content-Type"] == "application/json"


def test_superuser_sees_every_department(superuser, appointment) -> None:
    assert superuser.client().get(url(appointment.pk)).status_code == 200


class TestAuthentication:
    def assert_401(self, response) -> None:
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthenticated."}
        assert response["WWW-Authenticate"] == "Bearer"

    @pytest.mark.parametrize(
        "header",
        [None, "", "Bearer", "Bearer ", "Token abc", "Basic dXNlcjpwYXNz", "Bearer a b", "Bearer " + "x" * 500],
    )
    def test_missing_or_malformed_header_is_401(self, appointment, header) -> None:
        client = APIClient()
        if header is not None:
            client.credentials(HTTP_AUTHORIZATION=header)
        self.assert_401(client.get(url(appointment.pk)))

    def test_non_ascii_token_is_401_not_500(self, appointment) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Bearer apt_\xe9\xe9\xe9")
        self.assert_401(client.get(url(appointment.pk)))

    def test_unknown_token_is_401(self, agent, appointment) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {agent.token[:-4]}0000")
        self.assert_401(client.get(url(appointment.pk)))

    def test_expired_token_is_401(self, agent, appointment) -> None:
        ApiToken.objects.filter(user=agent.user).update(expiry=timezone.now() - timedelta(seconds=1))
        self.assert_401(agent.client().get(url(appointment.pk)))
        assert ApiToken.objects.filter(user=agent.user).count() == 1  # kept for the record

    def test_revoked_token_is_401(self, agent, appointment) -> None:
        api_token_revoke(token=ApiToken.objects.get(user=agent.user))
        self.assert_401(agent.client().get(url(appointment.pk)))

    def test_inactive_user_is_401(self, agent, appointment) -> None:
        agent.user.is_active = False
        agent.user.save()
        self.assert_401(agent.client().get(url(appointment.pk)))

    def test_token_is_stored_only_as_a_digest_and_use_is_recorded(self, agent, appointment) -> None:
        row = ApiToken.objects.get(user=agent.user)
        assert agent.token not in (row.digest, row.token_key)
        assert len(row.digest) == 128
        assert row.last_used_at is None
        assert agent.client().get(url(appointment.pk)).status_code == 200
        row.refresh_from_db()
        assert row.last_used_at is not None

    def test_token_without_expiry_works(self, department, appointment) -> None:
        user = persona("forever", department).user
        _row, secret = api_token_create(user=user, expires_in=None)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"bearer {secret}")  # the scheme is case-insensitive
        assert client.get(url(appointment.pk)).status_code == 200


class TestETag:
    def test_get_carries_a_strong_etag_that_changes_with_the_representation(self, api, appointment) -> None:
        first = api.get(url(appointment.pk))
        again = api.get(url(appointment.pk))
        assert re.fullmatch(r'"[0-9a-f]{40}"', first["ETag"])
        assert first["ETag"] == again["ETag"]
        api.patch(url(appointment.pk), {"features_bandwidth": "low"}, format="json")
        assert api.get(url(appointment.pk))["ETag"] != first["ETag"]

    def test_if_none_match_gives_304(self, api, appointment) -> None:
        etag = api.get(url(appointment.pk))["ETag"]
        response = api.get(url(appointment.pk), HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 304
        assert response["ETag"] == etag
        assert api.get(url(appointment.pk), HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_accept_header_never_turns_into_html_or_406(api, appointment) -> None:
    response = api.get(url(appointment.pk), HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("fields", [1, 25])
def test_get_query_count_does_not_grow_with_claimant_data(agent, fields: int) -> None:
    appointment = make_appointment(department_with_fields(agent.user, fields))
    client = agent.client()
    client.get(url(appointment.pk))  # the first use of a token records last_used_at
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url(appointment.pk)).status_code == 200
    # token+user, appointment with department, claimant and meeting, and its data items with their fields: in the
    # same statement on PostgreSQL (a JSON array), one more elsewhere. (The hand-written floor: 2.)
    assert len(queries) == (2 if connection.vendor == "postgresql" else 3), [q["sql"] for q in queries]
