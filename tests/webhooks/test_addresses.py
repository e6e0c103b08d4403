"""Webhooks go to public addresses only: checked when the URL is given (API and back office, one rule) and again
at each delivery (DNS answers change), with IPv6 forms that carry an IPv4 address unwrapped. A refusal says only
"not a public address", never what a name resolves to."""

from typing import Any

import pytest

from tests.factories import make_appointment
from tests.helpers import Receiver, logged_in, run_tasks, staff
from tests.webhooks.conftest import PUBLIC, FakeDNS
from webhooks import http
from webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint
from webhooks.services import NOT_PUBLIC

URL = "/api/v1/webhooks"

# host in the URL -> what it is (a literal address, or a name the fake DNS answers with the given addresses)
NOT_PUBLIC_HOSTS: list[tuple[str, list[str] | None]] = [
    ("127.0.0.1", None),
    ("10.0.0.8", None),
    ("172.16.0.1", None),
    ("192.168.1.1", None),
    ("169.254.169.254", None),  # cloud metadata
    ("100.64.0.1", None),  # carrier-grade NAT
    ("0.0.0.0", None),  # noqa: S104 (an address refused, not one bound)
    ("224.0.0.1", None),  # multicast
    ("255.255.255.255", None),
    ("2130706433", None),  # 127.0.0.1 as one number
    ("127.1", None),
    ("[::1]", None),
    ("[::]", None),
    ("[fd00::1]", None),
    ("[fe80::1]", None),
    ("[ff02::1]", None),
    ("[2001:db8::1]", None),
    ("[::127.0.0.1]", None),  # IPv4-compatible
    ("[::8.8.8.8]", None),  # IPv4-compatible is deprecated: never
    ("[::ffff:127.0.0.1]", None),  # IPv4-mapped
    ("[::ffff:a9fe:a9fe]", None),
    ("[::ffff:0:a9fe:a9fe]", None),  # IPv4-translated
    ("[64:ff9b::a9fe:a9fe]", None),  # NAT64 to 169.254.169.254
    ("[64:ff9b::7f00:1]", None),  # NAT64 to 127.0.0.1
    ("[64:ff9b:1::5db8:d70e]", None),  # local-use NAT64
    ("[2002:a9fe:a9fe::]", None),  # 6to4 of 169.254.169.254
    ("[2002:7f00:1::1]", None),  # 6to4 of 127.0.0.1
    ("[2001:0:4136:e378:8000:63bf:3fff:fdd2]", None),  # Teredo
    ("localhost", None),
    ("metadata.internal", ["169.254.169.254"]),
    ("db.internal", ["10.0.0.5"]),
    ("v6.internal", ["64:ff9b::a9fe:a9fe"]),
    ("half.example.com", [PUBLIC, "10.0.0.5"]),  # one private answer is enough
    ("nowhere.invalid", []),  # does not resolve: the same answer, so existence is not told either
]
PUBLIC_HOSTS: list[tuple[str, list[str] | None]] = [
    ("hooks.example.com", None),
    ("8.8.8.8", None),
    ("[2606:2800:21f:cb07:6820:80da:af6b:8b2c]", None),
    ("[64:ff9b::5db8:d70e]", None),  # NAT64 of a public address, as DNS64 answers
    ("[2002:5db8:d70e::1]", None),  # 6to4 of a public address
    ("v6.example.com", ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"]),
]


def ids(cases: list[tuple[str, Any]]) -> list[str]:
    return [host for host, _ in cases]


@pytest.fixture
def production(settings) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = False


def answer(dns: FakeDNS, host: str, addresses: list[str] | None) -> None:
    if addresses is not None:
        dns[host] = addresses


@pytest.mark.usefixtures("production")
@pytest.mark.parametrize(("host", "addresses"), NOT_PUBLIC_HOSTS, ids=ids(NOT_PUBLIC_HOSTS))
class TestNotPublic:
    def test_the_api_refuses_it_at_registration_saying_only_not_public(
        self, api, department, dns, host: str, addresses: list[str] | None
    ) -> None:
        answer(dns, host, addresses)
        response = api.post(URL, {"url": f"https://{host}/in"}, format="json")
        assert response.status_code == 422
        assert response.json() == {"message": NOT_PUBLIC, "errors": {"url": [NOT_PUBLIC]}}
        assert not Endpoint.objects.exists()

    def test_the_api_refuses_it_as_a_new_url(
        self, api, department, dns, host: str, addresses: list[str] | None
    ) -> None:
        answer(dns, host, addresses)
        endpoint = Endpoint.objects.create(department=department, url="https://hooks.example.com/in")
        response = api.patch(f"{URL}/{endpoint.pk}", {"url": f"https://{host}/in"}, format="json")
        assert response.json() == {"message": NOT_PUBLIC, "errors": {"url": [NOT_PUBLIC]}}
        endpoint.refresh_from_db()
        assert endpoint.url == "https://hooks.example.com/in"

    def test_the_back_office_refuses_it_with_the_same_rule(
        self, department, dns, host: str, addresses: list[str] | None
    ) -> None:
        answer(dns, host, addresses)
        manager = logged_in(staff("manager", department, group="Department managers"))
        body = {"department": str(department.pk), "url": f"https://{host}/in", "is_active": "on"}
        response = manager.post("/admin/webhooks/endpoint/add/", body)
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["url"] == [NOT_PUBLIC]
        assert not Endpoint.objects.exists()

    def test_delivery_refuses_it_without_connecting_or_saying_where_it_points(
        self, dns, host: str, addresses: list[str] | None
    ) -> None:
        answer(dns, host, addresses)
        outcome = http.post(f"https://{host}/in", b"{}", {})
        assert outcome.status_code is None
        bare = host.strip("[]")
        if addresses == []:
            assert outcome.error == f"Could not resolve {bare}."
        else:
            assert outcome.error == f"Refused: {bare} is not a public address."
            assert not outcome.retryable
        for address in addresses or []:
            if address != bare:
                assert address not in outcome.error


@pytest.mark.usefixtures("production")
@pytest.mark.parametrize(("host", "addresses"), PUBLIC_HOSTS, ids=ids(PUBLIC_HOSTS))
def test_a_public_address_is_accepted(api, department, dns, host: str, addresses: list[str] | None) -> None:
    answer(dns, host, addresses)
    response = api.post(URL, {"url": f"https://{host}/in"}, format="json")
    assert response.status_code == 201, response.json()
    assert Endpoint.objects.get().url == f"https://{host}/in"
    assert http.public_address(host.strip("[]"), 443)[1] == ""


@pytest.mark.usefixtures("production")
def test_a_name_that_turns_private_after_registration_is_refused_at_delivery(api, department, dns) -> None:
    """DNS rebinding: the check at registration is not enough, every delivery checks again, and neither the
    attempt nor the API's list of deliveries says what the name now resolves to."""
    created = api.post(URL, {"url": "https://crm.example.com/in"}, format="json")
    assert created.status_code == 201
    dns["crm.example.com"] = ["169.254.169.254"]
    with Receiver() as receiver:
        make_appointment(department)
        run_tasks()
    assert receiver.received == []
    attempt = Attempt.objects.get()
    assert attempt.error == "Refused: crm.example.com is not a public address."
    assert Delivery.objects.get().status == DeliveryStatus.FAILED
    listed = api.get(f"{URL}/{created.json()['data']['id']}/deliveries")
    assert "169.254" not in listed.content.decode()
