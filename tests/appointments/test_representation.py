"""The representation built for speed (`appointments.representation`) is the serializer's, exactly.

`AppointmentSerializer` stays the schema's description of the shape; the API answers with the fast builder. For
every state of an appointment, and every way the builder reads one (a query of rows, an instance with its data
items prefetched, an instance without), the JSON text is the same byte for byte: same keys, order, types and text.
"""

import json
from datetime import date, timedelta

import pytest
import time_machine
from rest_framework.renderers import JSONRenderer

from appointments.api.serializers import AppointmentSerializer
from appointments.models import Appointment, Status
from appointments.representation import representation, representations
from appointments.services import appointment_mark_no_shows, appointment_update
from claimants.models import FieldType
from tests.factories import ClaimantDataFieldFactory, DepartmentFactory, in_days, make_appointment
from tests.helpers import STATUS_PATHS as PATHS
from tests.helpers import claimant_joins, walk_to

pytestmark = pytest.mark.django_db


def _text(data: object) -> bytes:
    return JSONRenderer().render(data)


@pytest.fixture
def department():
    department = DepartmentFactory.create(name="Représentation ✓", features_bandwidth="low")
    ClaimantDataFieldFactory.create(department=department, name="Zeta", position=0, type=FieldType.NUMBER)
    ClaimantDataFieldFactory.create(department=department, name="Alpha", position=1, type=FieldType.DATE)
    ClaimantDataFieldFactory.create(department=department, name="Beta", position=1, type=FieldType.STRING)
    return department


@pytest.mark.parametrize("status", list(PATHS))
def test_every_state_is_the_serializers_byte_for_byte(department, status) -> None:
    full = make_appointment(
        department,
        appointment_at=in_days(3, hour=9, minute=15),
        is_interpreter_needed=True,
        interpreter_language="Català",
        use_custom_post_call_redirect=True,
        custom_user_post_call_redirect_url="https://example.com/thanks?x=1&y=ü",
        claimant={
            "name": "Zoë O'Brien \u2028",
            "email": "zoe@example.com",
            "phone_number": "07911 123456",
            "date_of_birth": date(1980, 2, 29),
            "data": {"Zeta": "12.50", "Beta": 'text with "quotes"'},
        },
    )
    bare = make_appointment(department, claimant={"name": "Bare", "data": {}})
    for appointment in (full, bare):
        if status == Status.CANCELLED:
            appointment_update(
                appointment=appointment, data={"status": status, "cancellation_reason": "Moved abroad"}, actor=None
            )
        else:
            walk_to(appointment, status)  # each step at a moment the status rules allow
        expected = _text(AppointmentSerializer(Appointment.objects.with_related().get(pk=appointment.pk)).data)
        assert json.loads(expected)["status"] == status
        from_rows = representations(Appointment.objects.filter(pk=appointment.pk))
        assert _text(from_rows[0]) == expected
        assert _text(representation(Appointment.objects.with_related().get(pk=appointment.pk))) == expected
        joined = Appointment.objects.select_related("department", "claimant", "meeting").get(pk=appointment.pk)
        assert _text(representation(joined)) == expected


def test_a_missed_appointment_is_the_serializers_byte_for_byte_and_others_have_no_outcome(department) -> None:
    """The additive `outcome` (issue 17.2) is the last key where it is set, and absent everywhere else."""
    missed = make_appointment(department, claimant={"name": "Came", "data": {}})
    other = make_appointment(department, claimant={"name": "Other", "data": {}})
    with time_machine.travel(missed.appointment_at - timedelta(minutes=5), tick=False) as clock:
        claimant_joins(missed)
        clock.move_to(missed.ends_at + timedelta(seconds=1))
        assert appointment_mark_no_shows(appointment_id=missed.pk)
    for appointment, outcome in ((missed, "missed_by_organisation"), (other, None)):
        expected = _text(AppointmentSerializer(Appointment.objects.with_related().get(pk=appointment.pk)).data)
        assert json.loads(expected).get("outcome") == outcome
        assert (list(json.loads(expected))[-1] == "outcome") is (outcome is not None)
        assert _text(representations(Appointment.objects.filter(pk=appointment.pk))[0]) == expected
        assert _text(representation(Appointment.objects.with_related().get(pk=appointment.pk))) == expected


def test_a_list_keeps_the_querysets_order_and_each_its_own_items(department) -> None:
    appointments = [
        make_appointment(
            department, appointment_at=in_days(days), claimant={"name": f"C{days}", "data": {"Beta": f"b{days}"}}
        )
        for days in (3, 1, 2)
    ]
    queryset = Appointment.objects.filter(pk__in=[a.pk for a in appointments]).order_by("appointment_at")
    expected = _text(AppointmentSerializer(queryset.with_related(), many=True).data)
    assert _text(representations(queryset)) == expected
    assert [item["claimant"]["name"] for item in representations(queryset)] == ["C1", "C2", "C3"]
    assert representations(queryset.none()) == []
