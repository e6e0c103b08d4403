"""`/api/v1/webhooks`: the endpoints of the caller's departments, https only, clear 422s that change nothing,
the same 404 for another department's endpoint, and a ping that the worker delivers."""

from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from events.models import Event
from tests.helpers import Receiver, run_tasks
from tests.support import persona
from webhooks.models import Delivery, DeliveryStatus, Endpoint

URL = "/api/v1/webhooks"


@pytest.fixture
def endpoint(department) -> Endpoint:
    return Endpoint.objects.create(department=department, url="https://hooks.example.com/in")


def create(api, **body: Any) -> Any:
    return api.post(URL, {"url": "https://hooks.example.com/in", **body}, format="json")


class TestManage:
    def test_create_answers_the_secret_once_and_lists_without_it(self, api, department) -> None:
        response = create(api, event_types=["appointment.cancelled", "appointment.created"], description="CRM")
        assert response.status_code == 201, response.json()
        data = response.json()["data"]
        stored = Endpoint.objects.get(pk=data["id"])
        assert data["secret"] == stored.secret
        assert stored.secret.startswith("whsec_")
        assert data["department_id"] == str(department.pk)
        assert data["event_types"] == ["appointment.created", "appointment.cancelled"]  # the catalogue's order
        assert (stored.description, stored.is_active) == ("CRM", True)
        listed = api.get(URL).json()["data"]
        assert [item["id"] for item in listed] == [data["id"]]
        assert "secret" not in listed[0]
        assert "secret" not in api.get(f"{URL}/{data['id']}").json()["data"]

    def test_update_changes_only_what_is_sent(self, api, endpoint) -> None:
        response = api.patch(f"{URL}/{endpoint.pk}", {"is_active": False}, format="json")
        assert response.status_code == 200
        endpoint.refresh_from_db()
        assert (endpoint.is_active, endpoint.url) == (False, "https://hooks.example.com/in")

    def test_turning_a_disabled_endpoint_on_forgives_its_failures(self, api, endpoint) -> None:
        Endpoint.objects.filter(pk=endpoint.pk).update(
            is_active=False, disabled_reason="Every delivery failed for 5 days.", failing_since="2026-01-01T00:00Z"
        )
        assert api.patch(f"{URL}/{endpoint.pk}", {"is_active": True}, format="json").status_code == 200
        endpoint.refresh_from_db()
        assert (endpoint.is_active, endpoint.failing_since, endpoint.disabled_reason) == (True, None, "")

    def test_delete(self, api, endpoint) -> None:
        assert api.delete(f"{URL}/{endpoint.pk}").status_code == 204
        assert not Endpoint.objects.filter(pk=endpoint.pk).exists()


class TestRefused:
    @pytest.mark.parametrize(
        ("url", "message"),
        [
            ("http://hooks.example.com/in", "The url must use https"),
            ("http://127.0.0.1:9000/in", "The url must use https"),  # loopback http only with DEBUG
            ("ftp://hooks.example.com/in", "The url must be a valid https URL"),
            ("https://user:pass@hooks.example.com/in", "The url must be a valid https URL"),
            ("https://hooks.example.com:99999/in", "The url must be a valid URL."),
            ("not a url", "The url must be a valid https URL"),
        ],
    )
    def test_a_bad_url_is_a_422_and_creates_nothing(self, api, department, url: str, message: str) -> None:
        response = create(api, url=url)
        assert response.status_code == 422
        assert response.json()["errors"]["url"][0].startswith(message)
        assert not Endpoint.objects.exists()

    @pytest.mark.parametrize(
        "body",
        [
            {"event_types": ["appointment.exploded"]},
            {"event_types": "appointment.created"},
            {"is_active": "maybe"},
            {"description": "x" * 201},
        ],
    )
    def test_bad_fields_are_422s_naming_them(self, api, department, body: dict[str, Any]) -> None:
        response = create(api, **body)
        assert response.status_code == 422
        assert {key.split(".")[0] for key in response.json()["errors"]} == set(body)  # event_types.0, as Laravel
        assert not Endpoint.objects.exists()

    def test_a_bad_update_changes_nothing(self, api, endpoint) -> None:
        body = {"url": "http://hooks.example.com/", "description": "changed"}
        response = api.patch(f"{URL}/{endpoint.pk}", body, format="json")
        assert response.status_code == 422
        endpoint.refresh_from_db()
        assert (endpoint.url, endpoint.description) == ("https://hooks.example.com/in", "")

    def test_only_json_is_read(self, api, department) -> None:
        response = api.post(URL, "url=https://hooks.example.com/", content_type="application/x-www-form-urlencoded")
        assert response.status_code == 415
        assert not Endpoint.objects.exists()

    def test_another_departments_endpoint_is_404_everywhere(self, other_manager, endpoint) -> None:
        client = other_manager.client()
        for method, suffix in (("get", ""), ("patch", ""), ("delete", ""), ("post", "/test"), ("get", "/deliveries")):
            response = getattr(client, method)(f"{URL}/{endpoint.pk}{suffix}", {}, format="json")
            assert response.status_code == 404, (method, suffix)
        assert client.get(URL).json()["data"] == []
        assert Endpoint.objects.get(pk=endpoint.pk).is_active
        assert not Delivery.objects.exists()

    def test_a_department_not_the_callers_is_a_422(self, api, other_department) -> None:
        response = create(api, department_id=str(other_department.pk))
        assert response.status_code == 422
        assert "department_id" in response.json()["errors"]

    def test_one_of_several_departments_must_be_named(self, department, other_department) -> None:
        client = persona("both", department, other_department, group="Department managers").client()
        response = create(client)
        assert response.status_code == 422
        assert "department_id" in response.json()["errors"]
        response = create(client, department_id=str(other_department.pk))
        assert response.status_code == 201
        assert Endpoint.objects.get().department == other_department

    def test_no_token_no_access(self, client, endpoint) -> None:
        assert client.get(URL).status_code == 401
        assert client.get(f"{URL}/{endpoint.pk}").status_code == 401


class TestPing:
    def test_a_ping_is_queued_then_delivered_by_the_worker_not_the_request(self, api, department, settings) -> None:
        settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
        with Receiver() as receiver:
            endpoint_id = create(api, url=receiver.url).json()["data"]["id"]
            response = api.post(f"{URL}/{endpoint_id}/test")
            assert response.status_code == 202
            delivery = Delivery.objects.get(pk=response.json()["data"]["delivery_id"])
            assert receiver.received == []
            assert DBTaskResult.objects.filter(task_path="webhooks.tasks.webhook_deliver").count() == 1
            run_tasks()
        assert [event["type"] for event in receiver.events()] == ["webhook.test"]
        assert receiver.events()[0]["data"] == {"endpoint_id": endpoint_id, "department_id": str(department.pk)}
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SUCCEEDED
        deliveries = api.get(f"{URL}/{endpoint_id}/deliveries").json()["data"]
        assert deliveries[0]["event_id"] == f"msg_{Event.objects.get().id.hex}"
        assert deliveries[0]["attempt_log"][0]["status_code"] == 200
        assert deliveries[0]["attempt_log"][0]["response_body"] == "answered 200"


class TestUnknownKeys:
    """A body none of whose keys is known is a 422 naming them (a misspelt field changed nothing and answered
    200), as for appointments; unknown keys beside a known one are ignored, as the contract says."""

    def test_a_create_of_unknown_keys_only_is_a_422_naming_each(self, api, department) -> None:
        response = api.post(URL, {"endpoint": "https://hooks.example.com/in", "events": []}, format="json")
        assert response.status_code == 422
        assert response.json()["errors"] == {
            "endpoint": ["The endpoint field is unknown."],
            "events": ["The events field is unknown."],
        }
        assert not Endpoint.objects.exists()

    def test_an_update_of_unknown_keys_only_is_a_422_and_changes_nothing(self, api, endpoint) -> None:
        response = api.patch(f"{URL}/{endpoint.pk}", {"active": False}, format="json")
        assert response.status_code == 422
        assert response.json() == {
            "message": "The active field is unknown.",
            "errors": {"active": ["The active field is unknown."]},
        }
        endpoint.refresh_from_db()
        assert endpoint.is_active is True

    def test_unknown_keys_beside_a_known_one_are_ignored(self, api, endpoint) -> None:
        response = api.patch(f"{URL}/{endpoint.pk}", {"is_active": False, "colour": "red"}, format="json")
        assert response.status_code == 200
        endpoint.refresh_from_db()
        assert endpoint.is_active is False

    def test_what_a_get_answered_sent_back_alone_changes_nothing(self, api, endpoint) -> None:
        read = api.get(f"{URL}/{endpoint.pk}").json()["data"]
        body = {"id": read["id"], "created_at": read["created_at"], "failing_since": None}
        response = api.patch(f"{URL}/{endpoint.pk}", body, format="json")
        assert response.status_code == 200
        assert response.json()["data"] == read
