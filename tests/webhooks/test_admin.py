"""The back office: department managers manage their departments' endpoints through the API's services, see
every delivery with its attempts and send one again; agents see the claimant's messages, not webhooks."""

from typing import Any

import pytest
from django.test import Client

from notifications.models import Notification
from tests.factories import make_appointment
from tests.helpers import Receiver, logged_in, run_tasks, staff
from webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint

ENDPOINTS = "/admin/webhooks/endpoint/"


@pytest.fixture
def manager(department) -> Client:
    return logged_in(staff("manager", department, group="Department managers"))


def add(client: Client, department, **fields: Any) -> Any:
    body = {"department": str(department.pk), "url": "https://hooks.example.com/in", "is_active": "on"} | fields
    return client.post(f"{ENDPOINTS}add/", body)


def test_a_manager_adds_an_endpoint_with_the_apis_rules(manager, department) -> None:
    refused = add(manager, department, url="http://hooks.example.com/in")
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["url"][0].startswith("The url must use https")
    assert not Endpoint.objects.exists()
    response = add(manager, department, event_types=["appointment.cancelled"], description="CRM")
    assert response.status_code == 302
    endpoint = Endpoint.objects.get()
    assert (endpoint.event_types, endpoint.description, endpoint.is_active) == (["appointment.cancelled"], "CRM", True)
    page = manager.get(f"{ENDPOINTS}{endpoint.pk}/change/")
    assert endpoint.secret in page.content.decode()


def test_a_manager_edits_and_sees_only_their_departments(manager, department, other_department) -> None:
    mine = Endpoint.objects.create(department=department, url="https://mine.example.com/")
    theirs = Endpoint.objects.create(department=other_department, url="https://theirs.example.com/")
    listing = manager.get(ENDPOINTS).content.decode()
    assert "mine.example.com" in listing
    assert "theirs.example.com" not in listing
    assert manager.get(f"{ENDPOINTS}{theirs.pk}/change/").status_code == 302  # "doesn't exist", to the index
    change = {"url": "https://mine.example.com/v2", "description": "", "is_active": "on"}
    assert manager.post(f"{ENDPOINTS}{mine.pk}/change/", change).status_code == 302
    mine.refresh_from_db()
    assert mine.url == "https://mine.example.com/v2"
    # Another department cannot be chosen for a new one.
    refused = add(manager, other_department)
    assert "department" in refused.context["adminform"].form.errors


def test_agents_do_not_manage_webhooks_but_see_the_claimants_messages(department) -> None:
    agent = logged_in(staff("desk", department))
    assert agent.get(ENDPOINTS).status_code == 403
    appointment = make_appointment(department)
    run_tasks()
    assert Notification.objects.filter(appointment=appointment).exists()
    page = agent.get("/admin/notifications/notification/")
    assert page.status_code == 200
    assert appointment.reference in page.content.decode()


def test_a_delivery_shows_its_attempts_and_is_sent_again(manager, department, settings) -> None:
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with Receiver(statuses=[410]) as receiver:
        Endpoint.objects.create(department=department, url=receiver.url)
        make_appointment(department)
        run_tasks()
        delivery = Delivery.objects.get()
        assert delivery.status == DeliveryStatus.FAILED
        page = manager.get(f"/admin/webhooks/delivery/{delivery.pk}/change/").content.decode()
        assert "410" in page
        assert f"msg_{delivery.event.id.hex}" in page
        action = {"action": "send_again", "_selected_action": [str(delivery.pk)]}
        assert manager.post("/admin/webhooks/delivery/", action).status_code == 302
        run_tasks()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert list(Attempt.objects.filter(delivery=delivery).order_by("at").values_list("status_code", flat=True)) == [
        410,
        200,
    ]
    assert len(receiver.received) == 2
