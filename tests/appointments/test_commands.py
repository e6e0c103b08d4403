"""create_api_token and seed_demo."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from appointments.models import Appointment, Department, Status
from claimants.models import ClaimantData, ClaimantDataField
from meetings.models import Meeting

pytestmark = pytest.mark.django_db


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


class TestCreateApiToken:
    def test_prints_only_the_token_as_last_line_and_stores_its_digest(self, department) -> None:
        lines = run("create_api_token", "integration", "--create-user", "--department", "Claims")
        token = lines[-1]
        assert token.startswith("apt_")
        assert " " not in token
        user = get_user_model().objects.get(username="integration")
        assert list(user.departments.all()) == [department]
        row = ApiToken.objects.get(user=user)
        assert token not in (row.digest, row.token_key)
        assert row.expiry is not None
        assert (row.expiry - timezone.now()).days in (364, 365)
        assert not user.has_usable_password()

    def test_the_token_authenticates(self, appointment) -> None:
        token = run("create_api_token", "integration", "--create-user", "--department", str(appointment.department_id))[
            -1
        ]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert client.get(f"/api/v1/appointments/{appointment.pk}").status_code == 200

    def test_expiry_and_superuser_options(self, db) -> None:
        run("create_api_token", "boss", "--create-user", "--superuser", "--expires-in-days", "0")
        user = get_user_model().objects.get(username="boss")
        assert user.is_superuser
        assert ApiToken.objects.get(user=user).expiry is None
        run("create_api_token", "boss", "--expires-in-days", "2")
        assert ApiToken.objects.filter(user=user).count() == 2

    def test_unknown_user_without_create_user_fails(self, db) -> None:
        with pytest.raises(CommandError, match="--create-user"):
            run("create_api_token", "ghost")
        assert not get_user_model().objects.filter(username="ghost").exists()

    def test_unknown_department_fails_and_creates_nothing(self, db) -> None:
        with pytest.raises(CommandError, match="No department"):
            run("create_api_token", "someone", "--create-user", "--department", "Nowhere")
        assert not get_user_model().objects.filter(username="someone").exists()
        assert not ApiToken.objects.exists()

    def test_negative_expiry_fails(self, db) -> None:
        with pytest.raises(CommandError):
            run("create_api_token", "someone", "--create-user", "--expires-in-days", "-1")


class TestSeedDemo:
    def test_creates_the_demo_and_is_idempotent(self, db) -> None:
        first = run("seed_demo")
        counts = (Department.objects.count(), Appointment.objects.count(), ClaimantData.objects.count())
        second = run("seed_demo")
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
        run("seed_demo")
        Appointment.objects.filter(pk=Appointment.objects.all()[0].pk).update(
            status=Status.CANCELLED, cancelled_at=timezone.now()
        )
        run("seed_demo")
        assert Appointment.objects.filter(status=Status.SCHEDULED).count() == 3


class TestStaffGroups:
    def test_groups_exist_with_their_permissions_after_migrate(self, db) -> None:
        from django.contrib.auth.models import Group

        from accounts.groups import GROUPS

        for name, codes in GROUPS.items():
            group = Group.objects.get(name=name)
            permissions = group.permissions.select_related("content_type")
            held = {f"{p.content_type.app_label}.{p.codename}" for p in permissions}
            assert held == set(codes)

    def test_running_migrate_again_keeps_them_and_hand_added_permissions(self, db) -> None:
        from django.contrib.auth.models import Group, Permission

        agents = Group.objects.get(name="Agents")
        extra = Permission.objects.get(codename="view_group")
        agents.permissions.add(extra)
        call_command("migrate", verbosity=0)
        assert Group.objects.filter(name="Agents").count() == 1
        assert agents.permissions.filter(pk=extra.pk).exists()
