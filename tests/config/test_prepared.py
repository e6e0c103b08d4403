"""Prepared queries (config.prepared) answer exactly what their querysets answer, on either database."""

from datetime import UTC, date, datetime

import pytest

from appointments.models import Appointment, Department
from appointments.selectors import COLUMNS
from config.prepared import Prepared, VisibleTo
from tests.factories import DepartmentFactory, make_appointment
from tests.support import persona

pytestmark = pytest.mark.django_db


def test_rows_are_the_querysets_with_each_calls_values(department) -> None:
    other = DepartmentFactory.create(name="Other")
    ours, theirs = make_appointment(department), make_appointment(other)
    member = persona("member", department).user
    one = Prepared(lambda pk, user_id: Appointment.objects.visible_to(type(member)(pk=user_id)).filter(pk=pk)
                   .values_list(*COLUMNS))  # fmt: skip
    for appointment in (ours, theirs):
        expected = list(Appointment.objects.visible_to(member).filter(pk=appointment.pk).values_list(*COLUMNS))
        assert one.rows(appointment.pk, member.pk) == expected
    assert one.rows(ours.pk, member.pk)
    assert not one.rows(theirs.pk, member.pk)  # tenancy held by the parameters


def test_visible_to_reads_a_members_rows_or_all_of_them(department) -> None:
    other = DepartmentFactory.create(name="Other")
    ours, theirs = make_appointment(department), make_appointment(other)
    member, root = persona("member", department).user, persona("root", superuser=True).user
    one = VisibleTo(Appointment, lambda appointments, pk: appointments.filter(pk=pk).values_list("pk"))
    for user in (member, root, None):
        for appointment in (ours, theirs):
            expected = list(Appointment.objects.visible_to(user).filter(pk=appointment.pk).values_list("pk"))
            assert one.rows(user, appointment.pk) == expected
    assert one.rows(member, ours.pk) == [(ours.pk,)]
    assert one.rows(member, theirs.pk) == []
    assert one.rows(root, theirs.pk) == one.rows(None, theirs.pk) == [(theirs.pk,)]


def test_an_in_is_compiled_once_per_number_of_values(department) -> None:
    appointments = [make_appointment(department) for _ in range(3)]
    ids = [a.pk for a in appointments]
    rows = Prepared(lambda pks: Appointment.objects.filter(pk__in=pks).order_by("pk").values_list("pk", "reference"))
    assert rows.rows(tuple(ids[:2])) == list(
        Appointment.objects.filter(pk__in=ids[:2]).order_by("pk").values_list("pk", "reference")
    )
    assert rows.rows(tuple(ids[1:])) == list(
        Appointment.objects.filter(pk__in=ids[1:]).order_by("pk").values_list("pk", "reference")
    )
    assert len(rows.rows(tuple(ids))) == 3
    assert len(rows._compiled) == 2  # two shapes: two values and three


def test_a_value_the_sql_does_not_carry_as_a_parameter_is_refused(department) -> None:
    changed = Prepared(lambda name: Department.objects.filter(name=name.upper()).values_list("pk"))
    with pytest.raises(ValueError, match="must each be a parameter"):
        changed.rows("claims")
    with pytest.raises(TypeError, match="shape"):
        Prepared(lambda flag: Department.objects.filter(features_bandwidth=flag).values_list("pk")).rows(True)


def test_visible_to_asks_the_models_own_tenancy_rule(department, monkeypatch) -> None:
    # Not a copy of the superuser branch: were the model's rule to let members see every department, so would it.
    theirs = make_appointment(DepartmentFactory.create(name="Other"))
    member = persona("member", department).user
    one = VisibleTo(Appointment, lambda appointments, pk: appointments.filter(pk=pk).values_list("pk"))
    assert one.rows(member, theirs.pk) == []
    monkeypatch.setattr("appointments.tenancy.sees_every_department", lambda user: True)  # where the rule is
    assert one.rows(member, theirs.pk) == [(theirs.pk,)]


def test_dates_and_datetimes_are_parameters_too(department) -> None:
    # The free times' reads (issue 26) take a window of days and of moments.
    early, late = (
        make_appointment(department, appointment_at=datetime(2027, 3, day, 9, tzinfo=UTC)) for day in (1, 20)
    )
    within = Prepared(
        lambda after, before, day: Appointment.objects.filter(
            appointment_at__gt=after, appointment_at__lt=before, created_at__date__lte=day
        ).values_list("pk", "appointment_at")
    )
    for after, before in [(datetime(2027, 2, 1, tzinfo=UTC), datetime(2027, 3, 10, tzinfo=UTC)),
                          (datetime(2027, 3, 1, 9, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC)),
                          (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC))]:  # fmt: skip
        expected = list(
            Appointment.objects.filter(
                appointment_at__gt=after, appointment_at__lt=before, created_at__date__lte=date(2100, 1, 1)
            ).values_list("pk", "appointment_at")
        )
        assert within.rows(after, before, date(2100, 1, 1)) == expected
    assert within.rows(datetime(2027, 3, 1, 9, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC), date(2100, 1, 1)) == [
        (late.pk, late.appointment_at)
    ]
    assert within.rows(datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC), date(2000, 1, 1)) == []
    assert early.pk
