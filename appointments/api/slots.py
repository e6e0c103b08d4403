"""`GET /api/v1/departments/{department}/slots` (issue 23.1): a department's free times, each booked by a create
with its `appointment_at` (the `start`) and `agent_id`. The same tenancy (another department is the 404 of a missing
one), errors (every parameter checked, 422 in the contract's shape) and envelope (`{"data": [...]}`) as the rest."""

from __future__ import annotations

import functools
import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from appointments.free_times import DAY, EPOCH
from appointments.local_time import local_iso
from appointments.models import MAX_DURATION, MIN_DURATION, Department
from appointments.selectors import department_visible
from appointments.slots import MAX_RANGE, FreeMinutes, FreeTime, free_minutes, rules_of
from config.api.fields import TIME_FORMAT, IntegerField, MillisecondsDateTimeField, TimeField, milliseconds
from config.api.negotiation import AlwaysJSONNegotiation
from config.api.schema import ERROR_RESPONSES
from config.api.validation import validated


class SlotQuerySerializer(serializers.Serializer):
    """The query: `from` and `to` (a window of at most 31 days), the length, an agent, an interpreter's language."""

    start = TimeField(help_text=f"Free times starting at or after this, written {TIME_FORMAT}.")
    to = TimeField(help_text="Free times starting before this; at most 31 days after `from`.")
    duration_in_minutes = IntegerField(min_value=MIN_DURATION, max_value=MAX_DURATION, required=False)
    agent_id = IntegerField(min_value=1, required=False)
    interpreter_language = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=False,
        help_text="Checked as a create checks it (1 to 100 characters). It narrows nothing: no agent records the "
        "languages they speak, and an interpreter is a participant invited to each appointment, not staff with hours.",
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("start")  # `from` is Python's keyword
        return dict(fields)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["to"] <= attrs["from"]:
            raise serializers.ValidationError({"to": ["The to field must be a time after from."]})
        if attrs["to"] - attrs["from"] > MAX_RANGE:
            raise serializers.ValidationError(
                {"to": [f"The to field must be at most {MAX_RANGE.days} days after from."]}
            )
        return attrs


class SlotSerializer(serializers.Serializer):
    """A free time: `start` and `end` in the contract's UTC format, `local_start` on the department's clock."""

    start = MillisecondsDateTimeField(help_text="Book it with this as `appointment_at`.")
    end = MillisecondsDateTimeField()
    agent_id = serializers.IntegerField(allow_null=True, help_text="Book it with this `agent_id` (null: nobody).")
    local_start = serializers.CharField(help_text="The start on the department's clock, with its offset.")


class SlotEnvelopeSerializer(serializers.Serializer):
    data = SlotSerializer(many=True)  # type: ignore[assignment]


def shown(found: FreeTime, department: Department) -> dict[str, Any]:
    """A free time as the API writes it (the declaration the fast writer below is tested against)."""
    return {
        "start": milliseconds(found.start),
        "end": milliseconds(found.end),
        "agent_id": found.agent_id,
        "local_start": local_iso(found.start, ZoneInfo(department.time_zone)),
    }


@functools.lru_cache(maxsize=1024)
def _day_text(day: int) -> str:
    """`2027-03-28`: the day `day` days after 1970-01-01."""
    return (EPOCH.date() + timedelta(days=day)).isoformat()


def _wall_text(minutes: int) -> str:
    """`2027-03-28T09:30:00`: whole minutes since the epoch written as `isoformat` writes them (no zone)."""
    day, minute = divmod(minutes, DAY)
    return f"{_day_text(day)}T{minute // 60:02d}:{minute % 60:02d}:00"


def _offset_text(offset: int) -> str:
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def shown_minutes(found: FreeMinutes, duration: int) -> list[dict[str, Any]]:
    """`shown` of every free time, written straight from their minutes and the clock's offsets: the same text,
    without a datetime, strftime or zone lookup per time (issue 26; tests/appointments/test_api_slots.py compares
    the two)."""
    clock = found.clock
    answer = []
    for moment, agent in found.starts:
        assert clock is not None
        offset = clock.offset_at(moment)
        answer.append(
            {
                "start": f"{_wall_text(moment)}.000Z",
                "end": f"{_wall_text(moment + duration)}.000Z",
                "agent_id": agent,
                "local_start": _wall_text(moment + offset) + _offset_text(offset),
            }
        )
    return answer


DEPARTMENT_ID = OpenApiParameter(
    "department", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The UUID of the department."
)


@extend_schema(tags=["departments"])
class SlotViewSet(viewsets.GenericViewSet):
    serializer_class = SlotSerializer
    queryset = Department.objects.none()
    content_negotiation_class = AlwaysJSONNegotiation

    @extend_schema(
        summary="List a department's free times",
        parameters=[DEPARTMENT_ID, SlotQuerySerializer],
        responses={200: SlotEnvelopeSerializer, **ERROR_RESPONSES},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Free times starting in [`from`, `to`), soonest first: inside the working hours of the agent (or, for a
        department whose agents have none, the department's own, unassigned), no sooner than the department's
        minimum notice and no further ahead than it books, clear of the agent's live appointments with the
        department's buffers, right across a change of clocks. Without `agent_id` each time is offered once, with
        the agent the round robin gives it. `duration_in_minutes` defaults to the department's slot length;
        `interpreter_language` is checked as a create checks it and narrows nothing: nothing in the model says which
        agent speaks which language, and interpreters are invited to each appointment (docs/decisions.md)."""
        try:
            department = department_visible(actor=request.user, pk=uuid.UUID(str(kwargs["department"])))
        except ValueError:
            department = None
        if department is None:
            raise exceptions.NotFound()
        query = dict(validated(SlotQuerySerializer, request.query_params.dict()).validated_data)
        agent_id = query.get("agent_id")
        members = get_user_model().objects.filter(is_active=True, is_staff=True, departments=department)
        if agent_id is not None and not members.filter(pk=agent_id).exists():
            raise serializers.ValidationError({"agent_id": ["The selected agent id is invalid."]})
        rules = rules_of(department)
        duration = query.get("duration_in_minutes") or rules.slot_minutes
        found = free_minutes(
            department=department,
            start=query["from"],
            end=query["to"],
            duration=duration,
            now=timezone.now(),
            agent_id=agent_id,
            rules=rules,
        )
        return Response({"data": shown_minutes(found, duration)})
