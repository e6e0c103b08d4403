"""Who manages webhook endpoints: one permission (webhooks.manage_endpoint, the Department managers'), the same
in the API and the back office. A role x action matrix: an agent's token (or a member's with no group) may do
nothing with them, a deactivated user's token nothing at all, another department's manager sees none of them."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.test import APIClient

from accounts.groups import GROUPS
from appointments.models import Department
from tests.helpers import logged_in, staff
from tests.support import persona
from webhooks.models import Delivery, Endpoint
from webhooks.permissions import MANAGE_ENDPOINTS

URL = "/api/v1/webhooks"
ADMIN = "/admin/webhooks/endpoint/"


def api_actions(endpoint: Endpoint, department: Department) -> dict[str, Callable[[APIClient], Any]]:
    one = f"{URL}/{endpoint.pk}"
    return {
        "list": lambda c: c.get(URL),
        "read": lambda c: c.get(one),
        "create": lambda c: c.post(
            URL, {"url": "https://new.example.com/in", "department_id": str(department.pk)}, format="json"
        ),
        "update": lambda c: c.patch(one, {"url": "https://elsewhere.example.com/in"}, format="json"),
        "deliveries": lambda c: c.get(f"{one}/deliveries"),
        "test": lambda c: c.post(f"{one}/test"),
        "rotate secret": lambda c: c.post(f"{one}/rotate-secret"),
        "delete": lambda c: c.delete(one),
    }


ALLOWED = {
    "list": 200,
    "read": 200,
    "create": 201,
    "update": 200,
    "deliveries": 200,
    "test": 202,
    "rotate secret": 200,
    "delete": 204,
}
FORBIDDEN = dict.fromkeys(ALLOWED, 403)
UNAUTHENTICATED = dict.fromkeys(ALLOWED, 401)
# Another department's: its list is empty, its ids unknown (404, as the contract's tenancy says), and this
# department cannot be named for a new one.
ELSEWHERE = {**dict.fromkeys(ALLOWED, 404), "list": 200, "create": 422}

API_MATRIX = {
    "superuser": ALLOWED,
    "manager": ALLOWED,
    "agent": FORBIDDEN,
    "member without a group": FORBIDDEN,
    "deactivated manager": UNAUTHENTICATED,
    "other department's manager": ELSEWHERE,
}


def api_client(role: str, department: Department, other_department: Department) -> APIClient:
    if role == "superuser":
        return persona("root", superuser=True).client()
    if role == "manager":
        return persona("boss", department, group="Department managers").client()
    if role == "agent":
        return persona("desk", department, group="Agents").client()
    if role == "member without a group":
        return persona("integration", department).client()
    if role == "deactivated manager":
        gone = persona("left", department, group="Department managers")
        gone.user.is_active = False
        gone.user.save(update_fields=["is_active"])
        return gone.client()
    assert role == "other department's manager"
    return persona("theirs", other_department, group="Department managers").client()


def state(endpoint_id: Any) -> Any:
    return (
        list(Endpoint.objects.order_by("url").values_list("pk", "url", "is_active", "secret")),
        Delivery.objects.filter(endpoint_id=endpoint_id).count(),
    )


@pytest.mark.parametrize("role", list(API_MATRIX))
@pytest.mark.parametrize("action", list(ALLOWED))
def test_api_matrix(role: str, action: str, department, other_department) -> None:
    endpoint = Endpoint.objects.create(department=department, url="https://crm.example.com/in")
    client = api_client(role, department, other_department)
    before = state(endpoint.pk)
    response = api_actions(endpoint, department)[action](client)
    expected = API_MATRIX[role][action]
    assert response.status_code == expected, response.content
    after = state(endpoint.pk)
    if API_MATRIX[role] is not ALLOWED:
        assert after == before  # refused or another department's: nothing changed, nothing queued
        assert "secret" not in response.content.decode()
        if expected == 403:
            assert response.json() == {"message": "This action is unauthorized."}
        if expected == 200:
            assert response.json()["data"] == []
        return
    assert after != before or action in ("list", "read", "deliveries")
    if action == "create":
        assert response.json()["data"]["secret"] == Endpoint.objects.get(url="https://new.example.com/in").secret
    if action == "rotate secret":
        assert response.json()["data"]["secret"] == Endpoint.objects.get(pk=endpoint.pk).secret
    if action == "list":
        assert [item["id"] for item in response.json()["data"]] == [str(endpoint.pk)]


def test_an_agent_and_a_member_without_a_group_see_the_list_as_403_not_as_empty(department) -> None:
    """Not an empty list: an integration told "none" would think its endpoints were deleted."""
    Endpoint.objects.create(department=department, url="https://crm.example.com/in")
    for username, group in (("desk", "Agents"), ("integration", None)):
        assert persona(username, department, group=group).client().get(URL).status_code == 403


# --- the back office ----------------------------------------------------------------------------------------------


def admin_actions(endpoint: Endpoint, department: Department) -> dict[str, Callable[[Client], Any]]:
    change = f"{ADMIN}{endpoint.pk}/change/"
    return {
        "list": lambda c: c.get(ADMIN),
        "read": lambda c: c.get(change),
        "create": lambda c: c.post(
            f"{ADMIN}add/", {"department": str(department.pk), "url": "https://new.example.com/in", "is_active": "on"}
        ),
        "update": lambda c: c.post(change, {"url": "https://elsewhere.example.com/in", "is_active": "on"}),
        "deliveries": lambda c: c.get("/admin/webhooks/delivery/"),
        "test": lambda c: c.post(ADMIN, {"action": "send_test_event", "_selected_action": [str(endpoint.pk)]}),
        "rotate secret": lambda c: c.post(ADMIN, {"action": "rotate_secret", "_selected_action": [str(endpoint.pk)]}),
        "delete": lambda c: c.post(f"{ADMIN}{endpoint.pk}/delete/", {"post": "yes"}),
    }


ADMIN_ALLOWED = {
    "list": 200,
    "read": 200,
    "create": 302,
    "update": 302,
    "deliveries": 200,
    "test": 302,
    "rotate secret": 302,
    "delete": 302,
}
ADMIN_MATRIX = {
    "superuser": ADMIN_ALLOWED,
    "manager": ADMIN_ALLOWED,
    "agent": dict.fromkeys(ADMIN_ALLOWED, 403),
    # Signed out: every page sends to the sign-in page.
    "deactivated manager": dict.fromkeys(ADMIN_ALLOWED, 302),
    # The list without it; its pages "do not exist" (back to the index); this department cannot be chosen.
    "other department's manager": {**ADMIN_ALLOWED, "read": 302, "create": 200, "update": 302, "delete": 302},
}


def admin_client(role: str, department: Department, other_department: Department) -> Client:
    if role == "superuser":
        return logged_in(staff("root", group="Department managers", superuser=True))
    if role == "manager":
        return logged_in(staff("boss", department, group="Department managers"))
    if role == "agent":
        return logged_in(staff("desk", department, group="Agents"))
    if role == "deactivated manager":
        user = staff("left", department, group="Department managers")
        client = logged_in(user)
        user.is_active = False
        user.save(update_fields=["is_active"])
        return client
    assert role == "other department's manager"
    return logged_in(staff("theirs", other_department, group="Department managers"))


@pytest.mark.parametrize("role", list(ADMIN_MATRIX))
@pytest.mark.parametrize("action", list(ADMIN_ALLOWED))
def test_back_office_matrix(role: str, action: str, department, other_department) -> None:
    endpoint = Endpoint.objects.create(department=department, url="https://crm.example.com/in")
    client = admin_client(role, department, other_department)
    before = state(endpoint.pk)
    response = admin_actions(endpoint, department)[action](client)
    expected = ADMIN_MATRIX[role][action]
    assert response.status_code == expected
    page = response.content.decode()
    allowed = ADMIN_MATRIX[role] is ADMIN_ALLOWED
    if not allowed:
        assert state(endpoint.pk) == before
        assert endpoint.secret not in page
        assert "crm.example.com" not in page
        if role == "deactivated manager":
            assert response["Location"].startswith("/admin/login/")
        return
    if action in ("create", "update", "test", "rotate secret", "delete"):
        assert state(endpoint.pk) != before
    if action == "read":
        assert endpoint.secret in page


def test_the_permission_is_the_managers_and_not_the_agents(db) -> None:
    assert MANAGE_ENDPOINTS in GROUPS["Department managers"]
    assert MANAGE_ENDPOINTS not in GROUPS["Agents"]
    codes = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name="Department managers").permissions.all()
    }
    assert MANAGE_ENDPOINTS in codes
