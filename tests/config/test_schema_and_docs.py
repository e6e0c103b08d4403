"""The OpenAPI schema and the Swagger UI, which must work with no internet."""

import re

import pytest
import yaml
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db


def test_schema_validates_and_documents_the_contract(tmp_path) -> None:
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    path = schema["paths"]["/api/v1/appointments/{appointment}"]
    assert set(path) >= {"get", "patch", "post"}
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer <token>`",
    }
    patch = path["patch"]
    # `_method` means something on POST only; a PATCH ignores it, as Laravel does, so its schema does not name it.
    assert {p["name"] for p in patch["parameters"]} == {"If-Match", "appointment", "dry_run"}
    assert {"401", "404", "412", "413", "415", "422", "429", "503"} <= set(patch["responses"])
    post = path["post"]
    assert any(p["name"] == "_method" and p["required"] for p in post["parameters"])
    assert "multipart/form-data" in post["requestBody"]["content"]


def test_the_dry_run_is_documented_on_each_change_and_its_answer_is_additive(tmp_path) -> None:
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    one = schema["paths"]["/api/v1/appointments/{appointment}"]
    changes = [one["patch"], one["post"], schema["paths"]["/api/v1/appointments/{appointment}/cancel"]["post"]]
    for operation in changes:
        [dry_run] = [p for p in operation["parameters"] if p["name"] == "dry_run"]
        assert (dry_run["in"], sorted(dry_run["schema"]["enum"])) == ("query", ["0", "1", "false", "true"])
        assert operation["responses"]["200"]["headers"]["Dry-Run"]["schema"]["enum"] == ["true"]
        reference = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        envelope = schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]
        assert (set(envelope["properties"]), envelope["required"]) == ({"data", "dry_run"}, ["data"])
    assert not any(p["name"] == "dry_run" for p in one["get"]["parameters"])
    dry = schema["components"]["schemas"]["DryRun"]
    assert set(dry["properties"]) == {"events", "messages", "join_links_renewed"}


def test_schema_documents_list_filters_create_cancel_and_departments(tmp_path) -> None:
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    listing = schema["paths"]["/api/v1/appointments"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {
        "status",
        "department_id",
        "appointment_at_from",
        "appointment_at_to",
        "reference",
        "is_interpreter_needed",
        "q",
        "sort",
        "page",
        "per_page",
    }
    reference = listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    envelope = schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]
    assert set(envelope["properties"]) == {"data", "links", "meta"}
    create = schema["paths"]["/api/v1/appointments"]["post"]
    assert "201" in create["responses"]
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert "multipart/form-data" in create["requestBody"]["content"]
    assert "post" in schema["paths"]["/api/v1/appointments/{appointment}/cancel"]
    assert "get" in schema["paths"]["/api/v1/departments"]


def test_the_additive_outcome_is_documented_and_not_required(tmp_path) -> None:
    """Issue 17.2: `outcome` is present only when set, so the schema must not promise it on every appointment (a
    generated client or a schema check would then reject every other answer)."""
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(target))
    schemas = yaml.safe_load(target.read_text())["components"]["schemas"]
    appointment = schemas["Appointment"]
    assert "outcome" in appointment["properties"]
    assert "outcome" not in appointment["required"]
    assert "status" in appointment["required"]
    assert "Present only when set" in appointment["properties"]["outcome"]["description"]
    assert schemas["AppointmentOutcomeEnum"]["enum"] == ["missed_by_organisation"]
    keys = list(appointment["properties"])
    assert not set(keys[keys.index("outcome") + 1 :]) & set(appointment["required"])  # only additive keys follow it


def test_the_additive_admitted_by_is_documented_and_not_required(tmp_path) -> None:
    """Issue 17.9: a participant's `admitted_by_id` is present only when set, like `outcome`."""
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    participant = schema["components"]["schemas"]["Participant"]
    assert list(participant["properties"])[-1] == "admitted_by_id"
    assert "admitted_by_id" not in participant["required"]
    assert "Present only when set" in participant["properties"]["admitted_by_id"]["description"]
    assert "post" in schema["paths"]["/api/v1/appointments/{appointment}/participants/{participant}/admit"]


def test_schema_and_docs_are_served_without_a_token() -> None:
    client = Client()
    assert client.get("/api/schema").status_code == 200
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    for asset in assets:
        assert asset.startswith("/"), f"{asset} would need the internet"
        if asset.startswith("/static/"):
            assert client.get(asset).status_code == 200, asset
