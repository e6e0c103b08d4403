"""GET /api/v1/departments."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from claimants.models import FieldType
from tests.factories import ClaimantDataFieldFactory, DepartmentFactory

URL = "/api/v1/departments"


def test_lists_the_callers_departments_with_their_fields(api, agent, department, other_department) -> None:
    response = api.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["data", "links", "meta"]
    assert [d["name"] for d in body["data"]] == ["Claims"]
    claims = body["data"][0]
    assert claims["id"] == str(department.pk)
    assert [(f["name"], f["type"], f["required"]) for f in claims["claimant_data_fields"]] == [
        ("Case number", "string", True),
        ("Incident date", "date", False),
    ]
    assert claims["features_bandwidth"] == "high"
    assert claims["features_call_recording_enable"] is False


def test_superuser_lists_all(superuser, department, other_department) -> None:
    names = [d["name"] for d in superuser.client().get(URL).json()["data"]]
    assert names == ["Claims", "Elsewhere"]


def test_query_count_does_not_grow_with_departments(agent) -> None:
    for n in range(12):
        dept = DepartmentFactory.create(name=f"D{n:02d}")
        dept.members.add(agent.user)
        ClaimantDataFieldFactory.create(department=dept, name="F", type=FieldType.NUMBER)
    client = agent.client()
    client.get(URL)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"per_page": 50})
    assert len(response.json()["data"]) == 13  # the twelve and the agent's own Claims
    assert len(queries) == 4  # token, count, departments, their fields


def test_unauthenticated_is_401(client, db) -> None:
    assert client.get(URL).status_code == 401
