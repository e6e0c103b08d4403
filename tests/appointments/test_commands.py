"""seed_demo: the demo data of `make run`."""

import pytest
from django.utils import timezone

from appointments.models import Appointment, Department, Status
from claimants.models import ClaimantData, ClaimantDataField
from meetings.models import Meeting
from tests.helpers import run_command

pytestmark = pytest.mark.django_db


class TestSeedDemo:
    def test_creates_the_demo_and_is_idempotent(self, db) -> None:
        first = run_command("seed_demo")
        counts = (Department.objects.count(), Appointment.objects.count(), ClaimantData.objects.count())
        second = run_command("seed_demo")
        assert (Department.objects.count(), Appointment.objects.count(), ClaimantData.objects.count()) == counts
        assert first[-1] == second[-1]
        department = Department.objects.get(name="Demo Department")
        fields = {f.name: (f.type, f.required) for f in ClaimantDataField.objects.filter(department=department)}
        assert fields == {"Case number": ("string", True), "Incident date": ("date", False)}
        assert department.members.filter(username="demo-agent", groups__name="Agents").exists()
        upcoming = Appointment.objects.filter(
            department=department, status=Status.SCHEDULED, appointment_at__gt=timezone.now()
        )
        assert upcoming.count() >= 3
        for appointment in upcoming:
            assert Meeting.objects.filter(appointment=appointment).exists()
            assert appointment.claimant.data.count() == 2
            assert appointment.claimant.data.get(field__name="Case number").value
        assert first[-1] == str(upcoming.order_by("appointment_at")[0].pk)

    def test_tops_up_when_a_demo_appointment_was_cancelled(self, db) -> None:
        run_command("seed_demo")
        Appointment.objects.filter(pk=Appointment.objects.all()[0].pk).update(
            status=Status.CANCELLED, cancelled_at=timezone.now()
        )
        run_command("seed_demo")
        assert Appointment.objects.filter(status=Status.SCHEDULED).count() == 3
