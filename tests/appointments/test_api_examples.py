"""The request examples of the API docs succeed when sent as they are, as Swagger's "Try it out" sends them
for the demo agent of `make run`; and the phone example the docs give is one the validator accepts."""

import io
import re

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

from appointments.models import Appointment
from claimants.api.serializers import PHONE_HELP
from claimants.models import Claimant
from claimants.services import normalise_phone_number
from tests.support import demo_client_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {demo_client_token()}")
    return client


def request_examples() -> list[tuple[str, str, dict]]:
    out = io.StringIO()
    call_command("spectacular", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {})
            for example in content.get("examples", {}).values():
                found.append((method, path, example["value"]))
    return found


def test_every_request_example_succeeds_as_it_is(demo) -> None:
    examples = request_examples()
    assert {(method, path) for method, path, _ in examples} == {
        ("post", "/api/v1/appointments"),
        ("patch", "/api/v1/appointments/{appointment}"),
        ("post", "/api/v1/appointments/{appointment}"),
        ("post", "/api/v1/appointments/{appointment}/cancel"),
    }
    for method, path, body in examples:
        target = Appointment.objects.filter(status="scheduled").order_by("appointment_at").first()
        assert target is not None
        url = path.replace("{appointment}", str(target.pk))
        if method == "post" and path.endswith("{appointment}"):
            url += "?_method=PATCH"
        response = getattr(demo, method)(url, body, format="json")
        assert response.status_code in {200, 201}, (method, path, response.json())


def test_the_phone_examples_of_the_docs_are_valid_numbers() -> None:
    help_texts = [PHONE_HELP, str(Claimant._meta.get_field("phone_number").help_text)]
    for text in help_texts:
        numbers = re.findall(r"\+\d{6,15}", text)
        assert numbers, text
        for number in numbers:
            assert normalise_phone_number(number) == number
