"""appointments.api.selectors: the filtered list compiled once reads, page by page and backwards, the ids the
filter set's queryset reads, for every filter and sort it takes, for a member and a superuser; what it does not
take (`q`, a refused value) is left to the filter set."""

from datetime import timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone

from appointments.api.selectors import filtered_ids
from appointments.filtersets import AppointmentFilterSet
from appointments.models import Appointment
from appointments.services import appointment_cancel
from tests.factories import make_appointment
from tests.support import persona

QUERIES = [
    "status=scheduled",
    "status=scheduled&sort=-appointment_at",
    "status=scheduled,cancelled&status[]=waiting&sort=reference",
    "status=scheduled,scheduled",
    "sort=-created_at,reference",
    "sort=status,-duration_in_minutes",
    "is_interpreter_needed=true",
    "is_interpreter_needed=0&sort=-appointment_at",
    "appointment_at_from={from_}&appointment_at_to={to}&status=cancelled",
    "department_id={department}&sort=appointment_at",
    "reference={reference}",
    "reference=",
    "status=&sort=",
]


@pytest.fixture
def many(department, other_department) -> list[Appointment]:
    made = [
        make_appointment(
            department if n % 3 else other_department,
            appointment_at=timezone.now() + timedelta(days=1 + n % 4, minutes=n),
            duration_in_minutes=30 + n % 3 * 15,
            is_interpreter_needed=n % 2 == 0,
            interpreter_language="Welsh" if n % 2 == 0 else None,
            claimant={"name": f"C {n}", "data": {"Case number": f"X-{n}"} if n % 3 else {}},
        )
        for n in range(24)
    ]
    for appointment in made[::5]:
        appointment_cancel(appointment=appointment, reason=None, actor=None)
    return made


@pytest.mark.parametrize("who", ["member", "superuser"])
@pytest.mark.parametrize("raw", QUERIES)
def test_the_compiled_list_reads_what_the_filter_set_reads(many, department, raw, who) -> None:
    user = persona(f"list-{who}", department, superuser=who == "superuser").user
    text = raw.format(
        from_=(timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        to=(timezone.now() + timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        department=department.pk,
        reference=many[4].reference,
    )
    query = QueryDict(text)
    compiled = filtered_ids(user, query)
    assert compiled is not None
    filtered = AppointmentFilterSet(query, queryset=Appointment.objects.visible_to(user)).qs
    expected = filtered.values_list("pk", flat=True)
    assert compiled.count() == expected.count()
    assert compiled[0 : compiled.count() + 1] == list(expected)
    for start in range(0, compiled.count(), 5):
        assert compiled[start : start + 5] == list(expected[start : start + 5])
        assert compiled.reverse()[start : start + 5] == list(expected.reverse()[start : start + 5])


@pytest.mark.parametrize("raw", ["q=Ada", "status=nonsense", "sort=agent_id", "appointment_at_from=tomorrow"])
def test_what_it_does_not_take_is_left_to_the_filter_set(agent, raw) -> None:
    assert filtered_ids(agent.user, QueryDict(raw)) is None
