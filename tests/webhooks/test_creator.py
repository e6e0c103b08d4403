"""Each endpoint records who created it; a deactivated creator's endpoints are listed for a manager to keep
(and answer for) or delete, since they go on sending claimants' data."""

import pytest

from tests.helpers import logged_in, staff
from webhooks.models import Endpoint

URL = "/api/v1/webhooks"
ENDPOINTS = "/admin/webhooks/endpoint/"


def test_the_api_records_the_creator_and_shows_it(api, manager, department) -> None:
    response = api.post(URL, {"url": "https://crm.example.com/in"}, format="json")
    assert response.status_code == 201
    endpoint = Endpoint.objects.get()
    assert endpoint.created_by == manager.user
    expected = {"id": manager.user.pk, "username": "manager", "is_active": True}
    assert response.json()["data"]["created_by"] == expected
    assert api.get(f"{URL}/{endpoint.pk}").json()["data"]["created_by"] == expected


def test_an_endpoint_of_unknown_creator_has_no_created_by_key(api, department) -> None:
    endpoint = Endpoint.objects.create(department=department, url="https://old.example.com/in")
    assert "created_by" not in api.get(f"{URL}/{endpoint.pk}").json()["data"]
    assert "created_by" not in api.get(URL).json()["data"][0]


def test_the_list_reads_creators_in_the_same_query(api, department, django_assert_max_num_queries) -> None:
    for number in range(5):
        creator = staff(f"creator{number}", department, group="Department managers")
        Endpoint.objects.create(department=department, url=f"https://{number}.example.com/in", created_by=creator)
    api.get(URL)  # the token's last use is written once
    with django_assert_max_num_queries(6):
        listed = api.get(URL).json()["data"]
    assert len({item["created_by"]["id"] for item in listed}) == 5


def test_the_back_office_records_the_creator(department) -> None:
    boss = staff("boss", department, group="Department managers")
    body = {"department": str(department.pk), "url": "https://crm.example.com/in", "is_active": "on"}
    assert logged_in(boss).post(f"{ENDPOINTS}add/", body).status_code == 302
    assert Endpoint.objects.get().created_by == boss


@pytest.fixture
def left(department, other_department):
    """Endpoints of a creator who was deactivated, here and in another department, and one of an active one."""
    gone = staff("gone", department, other_department, group="Department managers")
    stays = staff("stays", department, group="Department managers")
    Endpoint.objects.create(department=department, url="https://gone.example.com/in", created_by=gone)
    Endpoint.objects.create(department=other_department, url="https://theirs.example.com/in", created_by=gone)
    Endpoint.objects.create(department=department, url="https://stays.example.com/in", created_by=stays)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    return gone


def test_a_manager_is_told_of_a_deactivated_creators_endpoints_and_lists_them(left, department, api) -> None:
    boss = logged_in(staff("boss", department, group="Department managers"))
    page = boss.get(ENDPOINTS).content.decode()
    assert "1 endpoint(s) created by a deactivated user still receive events" in page
    listed = boss.get(f"{ENDPOINTS}?creator=deactivated").content.decode()
    assert "gone.example.com" in listed
    assert "stays.example.com" not in listed
    assert "theirs.example.com" not in listed  # another department's stays theirs
    over_api = {item["url"]: item["created_by"]["is_active"] for item in api.get(URL).json()["data"]}
    assert over_api == {"https://gone.example.com/in": False, "https://stays.example.com/in": True}


def test_keeping_makes_the_manager_the_creator_and_clears_the_list(left, department) -> None:
    user = staff("boss", department, group="Department managers")
    boss = logged_in(user)
    gone = Endpoint.objects.get(url="https://gone.example.com/in")
    response = boss.post(ENDPOINTS, {"action": "keep", "_selected_action": [str(gone.pk)]})
    assert response.status_code == 302
    gone.refresh_from_db()
    assert gone.created_by == user
    assert "gone.example.com" not in boss.get(f"{ENDPOINTS}?creator=deactivated").content.decode()
    assert "deactivated user still receive events" not in boss.get(ENDPOINTS).content.decode()


def test_removing_deletes_them(left, department) -> None:
    boss = logged_in(staff("boss", department, group="Department managers"))
    gone = Endpoint.objects.get(url="https://gone.example.com/in")
    body = {"action": "delete_selected", "_selected_action": [str(gone.pk)], "post": "yes"}
    assert boss.post(ENDPOINTS, body).status_code == 302
    assert set(Endpoint.objects.values_list("url", flat=True)) == {
        "https://theirs.example.com/in",
        "https://stays.example.com/in",
    }
