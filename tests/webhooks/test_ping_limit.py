"""Test pings are limited per endpoint (WEBHOOK_TEST_PINGS_PER_MINUTE), whichever door sends them: past the limit
the API answers the contract's 429 with Retry-After and queues nothing; the next minute pings go again."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from events.models import Event
from tests.helpers import logged_in, staff
from webhooks.models import Delivery, Endpoint

URL = "/api/v1/webhooks"
# 42 seconds into a minute (within the test token's day): the refusal says 18 seconds are left.
START = datetime.now(UTC).replace(second=42, microsecond=0) + timedelta(minutes=1)


@pytest.fixture
def endpoint(department) -> Endpoint:
    return Endpoint.objects.create(department=department, url="https://hooks.example.com/in")


def test_past_the_limit_a_ping_is_a_429_with_retry_after_and_queues_nothing(api, endpoint, department, settings):
    settings.WEBHOOK_TEST_PINGS_PER_MINUTE = 3
    other = Endpoint.objects.create(department=department, url="https://other.example.com/in")
    with time_machine.travel(START, tick=False):
        assert [api.post(f"{URL}/{endpoint.pk}/test").status_code for _ in range(3)] == [202] * 3
        refused = api.post(f"{URL}/{endpoint.pk}/test")
        assert refused.status_code == 429
        assert refused["Retry-After"] == "18"
        assert refused.json() == {
            "message": "Too many test events for this endpoint. Expected available in 18 seconds."
        }
        assert Delivery.objects.filter(endpoint=endpoint).count() == 3
        assert Event.objects.count() == 3
        assert api.post(f"{URL}/{other.pk}/test").status_code == 202  # another endpoint has its own count
    with time_machine.travel(START + timedelta(seconds=18), tick=False):
        assert api.post(f"{URL}/{endpoint.pk}/test").status_code == 202
    assert Delivery.objects.filter(endpoint=endpoint).count() == 4


def test_the_back_office_shares_the_limit(api, endpoint, department, settings) -> None:
    settings.WEBHOOK_TEST_PINGS_PER_MINUTE = 2
    boss = logged_in(staff("boss", department, group="Department managers"))
    action = {"action": "send_test_event", "_selected_action": [str(endpoint.pk)]}
    with time_machine.travel(START, tick=False):
        assert api.post(f"{URL}/{endpoint.pk}/test").status_code == 202
        assert boss.post("/admin/webhooks/endpoint/", action).status_code == 302
        page = boss.post("/admin/webhooks/endpoint/", action, follow=True).content.decode()
        assert "Too many test events for this endpoint. Try again in 18 seconds." in page
        assert api.post(f"{URL}/{endpoint.pk}/test").status_code == 429
    assert Delivery.objects.filter(endpoint=endpoint).count() == 2
