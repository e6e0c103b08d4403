"""The representation rendered once (config.api.rendering, issue 26.2) is byte for byte what DRF's JSONRenderer writes
for the events' data and the answer's body, tricky text included."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.renderers import JSONRenderer

from config.api.rendering import RenderedResponse, api_json, escaped, object_with

TRICKY: list[Any] = [
    {},
    {"name": 'Zoë \u2028 line\u2029 "quoted" \\ back </script> \u00e9\U0001f600', "n": 3, "ok": True, "none": None},
    {"id": uuid.UUID(int=7), "at": datetime(2031, 1, 1, 9, tzinfo=UTC), "amount": Decimal("1.50"), "items": [1, "2"]},
    {"nested": {"list": [{"a": "\u2028"}], "empty": {}}},
]
RESTS: list[dict[str, Any]] = [
    {},
    {"changed_fields": ["status", "claimant.phone_number"]},
    {"participant": {"id": "x", "role": "guest"}, "actor": {"type": "claimant", "participant_id": "\u2029"}},
    {"appointment": {"replaced": True}, "previous_status": "scheduled"},  # the key given again takes its place
]


def rendered(data: Any) -> str:
    return JSONRenderer().render(data).decode()


@pytest.mark.parametrize("value", TRICKY)
@pytest.mark.parametrize("rest", RESTS)
def test_an_object_around_rendered_text_is_what_the_renderer_writes_for_the_whole(value: Any, rest: Any) -> None:
    assert object_with("appointment", escaped(api_json(value)), rest) == rendered({"appointment": value, **rest})


@pytest.mark.parametrize("value", TRICKY)
def test_the_answer_rendered_from_text_is_what_the_renderer_writes(rf: Any, value: Any) -> None:
    from rest_framework.request import Request
    from rest_framework.views import APIView

    response = RenderedResponse(value, escaped(api_json(value)), status=201)
    response.accepted_renderer = JSONRenderer()
    response.accepted_media_type = "application/json"
    response.renderer_context = {"view": APIView(), "request": Request(rf.get("/"))}  # type: ignore[attr-defined]
    response.render()
    assert response.content == JSONRenderer().render({"data": value})
    assert response["Content-Type"] == "application/json"
    assert response.data == {"data": value}
