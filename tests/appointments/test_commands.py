"""seed_demo: the demo data of `make run`."""

from datetime import time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from appointments.availability import WorkingHours
from appointments.models import Appointment, Department, Status
from appointments.slots import free_times
from claimants.models import ClaimantData, ClaimantDataField
from meetings.models import Meeting
from tests.helpers import rewrite, run_command

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

    def test_the_demo_agent_has_working_hours_so_free_times_are_offered_at_once(self, db) -> None:
        run_command("seed_demo")
        run_command("seed_demo")
        department = Department.objects.get(name="Demo Department")
        agent = get_user_model().objects.get(username="demo-agent")
        hours = WorkingHours.objects.filter(department=department, agent=agent)
        assert sorted(hours.values_list("weekday", "starts_at", "ends_at")) == [
            (day, time(9), time(17)) for day in range(5)
        ]
        now = timezone.now()
        week = free_times(department=department, start=now, end=now + timedelta(days=7), duration=30, now=now)
        assert len(week) >= 5 * 8  # five working days (less the demo appointments and the notice), on the half hour
        assert {found.agent_id for found in week} == {agent.pk}

    def test_tops_up_when_a_demo_appointment_was_cancelled(self, db) -> None:
        run_command("seed_demo")
        rewrite(
            Appointment.objects.filter(pk=Appointment.objects.all()[0].pk),
            status=Status.CANCELLED,
            cancelled_at=timezone.now(),
        )
        run_command("seed_demo")
        assert Appointment.objects.filter(status=Status.SCHEDULED).count() == 3


class TestDemoSession:
    def test_refused_without_debug(self, settings) -> None:
        settings.DEBUG = False
        with pytest.raises(CommandError, match="only with DEBUG=1"):
            run_command("demo_session")
        assert not get_user_model().objects.filter(username="demo-manager").exists()

    def test_staff_with_fresh_passwords_a_token_and_an_appointment_of_ones_own(self, settings) -> None:
        settings.DEBUG = True
        first = run_command("demo_session", "--port", "8123")
        second = run_command("demo_session", "--port", "8123")
        exported = dict(part.split("=", 1) for part in second[-1].removeprefix("export ").split())
        assert exported["PORT"] == "8123"
        mine = Appointment.objects.get(pk=exported["ID"])
        assert mine.claimant.name == "Your Claimant"
        assert first[-1] != second[-1]  # another appointment, another token, each run
        passwords = dict(line.split()[0:3:2] for line in second if "password" in line)
        assert set(passwords) == {"demo-agent", "demo-manager"}
        manager = get_user_model().objects.get(username="demo-manager")
        assert manager.check_password(passwords["demo-manager"])
        assert get_user_model().objects.get(username="demo-agent").check_password(passwords["demo-agent"])
        assert manager.groups.filter(name="Department managers").exists()
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {exported['TOKEN']}")
        assert api.get(f"/api/v1/appointments/{mine.pk}").status_code == 200
        # The claimant's side too: their link and the date of birth its identity check asks for.
        assert (
            f"As its claimant: http://127.0.0.1:8123/join/{mine.public_token} (its date of birth: 17/03/1984)" in second
        )
        assert str(mine.claimant.date_of_birth) == "1984-03-17"
        assert get_user_model().objects.get(username="demo-agent").get_full_name() == "Dana Reid"
