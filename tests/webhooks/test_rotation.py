"""Signing secrets rotate with an overlap: for the set time every delivery carries two signatures in
`webhook-signature` (the new secret's and the previous one's, as the Standard Webhooks specification allows), so
a receiver verifies with either and switches without missing one; after it, only the new secret signs."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.factories import make_appointment
from tests.helpers import Receiver, logged_in, run_tasks, staff
from webhooks.models import Endpoint

URL = "/api/v1/webhooks"


@pytest.fixture
def local(settings) -> None:
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


def verifies(secret: str, received) -> bool:
    try:
        Webhook(secret).verify(received.body, received.headers)
    except WebhookVerificationError:
        return False
    return True


@pytest.mark.usefixtures("local")
def test_both_secrets_sign_during_the_overlap_and_only_the_new_one_after(api, department) -> None:
    with Receiver() as receiver:
        endpoint = Endpoint.objects.create(department=department, url=receiver.url)
        old = endpoint.secret
        response = api.post(f"{URL}/{endpoint.pk}/rotate-secret", {"overlap_hours": 2}, format="json")
        assert response.status_code == 200
        data = response.json()["data"]
        endpoint.refresh_from_db()
        new = endpoint.secret
        assert data["secret"] == new != old
        expires = endpoint.previous_secret_expires_at
        assert expires is not None
        assert endpoint.previous_secret == old
        assert data["previous_secret_expires_at"] == expires.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        assert "secret" not in api.get(f"{URL}/{endpoint.pk}").json()["data"]

        make_appointment(department)
        run_tasks()
        during = receiver.received[-1]
        assert len(during.headers["webhook-signature"].split(" ")) == 2
        assert verifies(new, during)
        assert verifies(old, during)

        later = expires + timedelta(seconds=1)
        with time_machine.travel(later, tick=False):
            make_appointment(department)
            run_tasks(until=timezone.now())
            after = receiver.received[-1]
            assert len(after.headers["webhook-signature"].split(" ")) == 1
            assert verifies(new, after)
            assert not verifies(old, after)


@pytest.mark.usefixtures("local")
def test_an_overlap_of_zero_stops_the_old_secret_at_once(api, department) -> None:
    with Receiver() as receiver:
        endpoint = Endpoint.objects.create(department=department, url=receiver.url)
        old = endpoint.secret
        assert api.post(f"{URL}/{endpoint.pk}/rotate-secret", {"overlap_hours": 0}, format="json").status_code == 200
        endpoint.refresh_from_db()
        assert (endpoint.previous_secret, endpoint.previous_secret_expires_at) == ("", None)
        make_appointment(department)
        run_tasks()
    assert verifies(endpoint.secret, receiver.received[0])
    assert not verifies(old, receiver.received[0])


def test_the_default_overlap_is_a_day_and_an_empty_body_is_enough(api, department) -> None:
    endpoint = Endpoint.objects.create(department=department, url="https://hooks.example.com/in")
    before = timezone.now()
    assert api.post(f"{URL}/{endpoint.pk}/rotate-secret").status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.previous_secret_expires_at is not None
    assert endpoint.previous_secret_expires_at - before - timedelta(hours=24) < timedelta(minutes=1)


def test_a_second_rotation_keeps_only_the_secret_it_replaces(api, department) -> None:
    endpoint = Endpoint.objects.create(department=department, url="https://hooks.example.com/in")
    first = endpoint.secret
    api.post(f"{URL}/{endpoint.pk}/rotate-secret")
    second = Endpoint.objects.get().secret
    api.post(f"{URL}/{endpoint.pk}/rotate-secret")
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == second
    assert first not in endpoint.signing_secrets(timezone.now())
    assert len(endpoint.signing_secrets(timezone.now())) == 2


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"overlap_hours": -1}, "overlap_hours"),
        ({"overlap_hours": 169}, "overlap_hours"),
        ({"overlap_hours": "a day"}, "overlap_hours"),
        ({"overlap": 2}, "overlap"),
    ],
)
def test_a_bad_overlap_is_a_422_and_rotates_nothing(api, department, body, key) -> None:
    endpoint = Endpoint.objects.create(department=department, url="https://hooks.example.com/in")
    response = api.post(f"{URL}/{endpoint.pk}/rotate-secret", body, format="json")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == [key]
    fresh = Endpoint.objects.get()
    assert (fresh.secret, fresh.previous_secret) == (endpoint.secret, "")


def test_the_back_office_rotates_with_a_days_overlap(department) -> None:
    boss = logged_in(staff("boss", department, group="Department managers"))
    endpoint = Endpoint.objects.create(department=department, url="https://hooks.example.com/in")
    action = {"action": "rotate_secret", "_selected_action": [str(endpoint.pk)]}
    assert boss.post("/admin/webhooks/endpoint/", action).status_code == 302
    fresh = Endpoint.objects.get()
    assert fresh.secret != endpoint.secret
    assert fresh.previous_secret == endpoint.secret
    assert fresh.previous_secret_expires_at is not None
    assert fresh.previous_secret_expires_at - timezone.now() > timedelta(hours=23)
    assert fresh.secret in boss.get(f"/admin/webhooks/endpoint/{endpoint.pk}/change/").content.decode()
