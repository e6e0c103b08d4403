"""The schema as API clients use it: every operation's parameters match its path, and a client generated from
the schema (openapi-python-client, as integrators generate theirs) has every operation, with no warning."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture
def schema_file(tmp_path) -> Path:
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    return target


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_operation_declares_exactly_the_parameters_of_its_path(schema_file) -> None:
    schema = yaml.safe_load(schema_file.read_text())
    checked = 0
    for path, method, operation in operations(schema):
        declared = [p for p in operation.get("parameters", []) if p["in"] == "path"]
        assert sorted(p["name"] for p in declared) == sorted(re.findall(r"{([^}]+)}", path)), (method, path)
        assert all(p.get("required") is True for p in declared), (method, path)
        checked += 1
    # appointments 7 (with its events), departments 2 (with slots), participants 5, webhooks 8, personal data 5
    assert checked == 27


def test_a_generated_client_has_every_operation(schema_file, tmp_path) -> None:
    schema = yaml.safe_load(schema_file.read_text())
    generator = Path(sys.executable).with_name("openapi-python-client")
    output = tmp_path / "client"
    result = subprocess.run(  # noqa: S603 (our own dev tool, arguments we build)
        [str(generator), "generate", "--path", str(schema_file), "--output-path", str(output), "--meta", "none"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": str(generator.parent)},  # its post-hooks run the project's ruff
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    generated = {module.stem for module in output.glob("api/*/*.py") if module.stem != "__init__"}
    expected = {op["operationId"] for _path, _method, op in operations(schema)}
    assert generated == expected
