"""factory_boy factories for the models a test sets up directly, a helper that creates appointments the only way
the service creates them (with claimant, data items and meeting), and browsers for a participant's journey."""

from datetime import datetime, timedelta
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from appointments.models import Appointment, Department
from appointments.services import appointment_create
from claimants.models import ClaimantDataField, FieldType
from meetings.browsers import Browser, browser_digest, new_browser_key
from meetings.identity import IdentityOutcome, participant_check_identity
from meetings.models import Participant


class UserFactory(factory.django.DjangoModelFactory[Any]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")


class DepartmentFactory(factory.django.DjangoModelFactory[Department]):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"Department {n}")


class ClaimantDataFieldFactory(factory.django.DjangoModelFactory[ClaimantDataField]):
    class Meta:
        model = ClaimantDataField

    department = factory.SubFactory(DepartmentFactory)
    name = factory.Sequence(lambda n: f"Field {n}")
    type = FieldType.STRING
    required = False
    position = factory.Sequence(lambda n: n)


def in_days(days: float, hour: int = 10, minute: int = 0) -> datetime:
    return (timezone.now() + timedelta(days=days)).replace(hour=hour, minute=minute, second=0, microsecond=0)


def make_appointment(department: Department, **overrides: Any) -> Appointment:
    """A scheduled appointment created through the service, as every appointment is."""
    superuser = UserFactory.create(username="factory-superuser", is_superuser=True, is_staff=True)
    required = {f.name: f"{f.name} value" for f in department.data_fields.filter(required=True, type=FieldType.STRING)}
    claimant = overrides.pop("claimant", {"name": "Ada Lovelace", "email": "ada@example.com", "data": required})
    values = {"appointment_at": in_days(2), "duration_in_minutes": 60, **overrides}
    appointment = appointment_create(department=department, claimant=claimant, actor=superuser, **values)
    return Appointment.objects.with_related().get(pk=appointment.pk)


def department_with_fields(member: Any, count: int) -> Department:
    """A department of `member` with `count` optional string data fields (for query-count tests)."""
    department = DepartmentFactory.create(name=f"With {count} fields")
    department.members.add(member)
    for index in range(count):
        ClaimantDataFieldFactory.create(department=department, name=f"F{index}", type=FieldType.STRING)
    return department


def a_browser() -> Browser:
    """A browser of its own, as a participant's page is open in (its cookie's key, by digest)."""
    return Browser(digest=browser_digest(new_browser_key()))


def browser_that_passed(participant: Participant) -> Browser:
    """The claimant passes the identity check in a new browser, which then holds the link (by its new key)."""
    born = participant.appointment.claimant.date_of_birth
    assert born is not None
    answer = participant_check_identity(participant=participant, browser=a_browser(), date_of_birth=born)
    assert answer.outcome == IdentityOutcome.PASSED
    return Browser(digest=browser_digest(answer.browser_key))
