"""Managers edit a department's booking rules, working hours and days that differ on its page (issue 23.1)."""

from __future__ import annotations

from datetime import date, time

import pytest

from appointments.availability import BookingRules, HoursException, WorkingHours
from appointments.models import Department
from tests.appointments.test_admin import department_form
from tests.helpers import logged_in, staff

pytestmark = pytest.mark.django_db


def page(department: Department) -> str:
    return f"/admin/appointments/department/{department.pk}/change/"


def test_a_manager_sets_rules_hours_and_a_bank_holiday(department, other_department) -> None:
    manager = logged_in(staff("manager", department, group="Department managers"))
    ann = staff("ann", department)
    stranger = staff("stranger", other_department)
    shown = manager.get(page(department))
    assert 'name="working_hours-TOTAL_FORMS"' in shown.content.decode()
    formsets = {f.formset.prefix: f.formset for f in shown.context["inline_admin_formsets"]}
    offered = set(formsets["working_hours"].form.base_fields["agent"].queryset)
    assert ann in offered
    assert stranger not in offered  # only the department's staff are offered
    data = department_form(department) | {"name": department.name}
    data |= {
        "booking_rules-TOTAL_FORMS": "1",
        "booking_rules-0-department": str(department.pk),
        "booking_rules-0-slot_minutes": "15",
        "booking_rules-0-buffer_before_minutes": "5",
        "booking_rules-0-buffer_after_minutes": "10",
        "booking_rules-0-notice_to_book_minutes": "120",
        "booking_rules-0-notice_to_reschedule_minutes": "1440",
        "booking_rules-0-notice_to_cancel_minutes": "720",
        "booking_rules-0-horizon_days": "30",
        "booking_rules-0-max_claimant_reschedules": "1",
        "working_hours-TOTAL_FORMS": "2",
        "working_hours-0-department": str(department.pk),
        "working_hours-0-agent": str(ann.pk),
        "working_hours-0-weekday": "0",
        "working_hours-0-starts_at": "09:00",
        "working_hours-0-ends_at": "17:30",
        "working_hours-1-department": str(department.pk),
        "working_hours-1-agent": "",
        "working_hours-1-weekday": "1",
        "working_hours-1-starts_at": "18:00",
        "working_hours-1-ends_at": "00:00",
        "hours_exceptions-TOTAL_FORMS": "1",
        "hours_exceptions-0-department": str(department.pk),
        "hours_exceptions-0-day": "2027-12-27",
        "hours_exceptions-0-kind": "off",
        "hours_exceptions-0-note": "Bank holiday",
    }
    response = manager.post(page(department), data)
    assert response.status_code == 302, response.context and [
        f.formset.errors for f in response.context["inline_admin_formsets"]
    ]
    rules = BookingRules.objects.get(department=department)
    assert (rules.slot_minutes, rules.buffer_before_minutes, rules.buffer_after_minutes) == (15, 5, 10)
    assert (rules.notice_to_book_minutes, rules.horizon_days, rules.max_claimant_reschedules) == (120, 30, 1)
    assert sorted(WorkingHours.objects.values_list("agent_id", "weekday", "starts_at", "ends_at"), key=str) == sorted(
        [(ann.pk, 0, time(9), time(17, 30)), (None, 1, time(18), time(0))], key=str
    )
    assert list(HoursException.objects.values_list("agent_id", "day", "kind")) == [(None, date(2027, 12, 27), "off")]
    # Saved again unchanged, nothing changes.
    again = manager.post(page(department), department_form(department) | {"name": department.name})
    assert again.status_code == 302
    assert WorkingHours.objects.count() == 2
    assert HoursException.objects.count() == 1
    assert BookingRules.objects.get(department=department).slot_minutes == 15


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"agent": "", "weekday": "0", "starts_at": "17:00", "ends_at": "09:00"}, "ends_at"),
        ({"agent": "STRANGER", "weekday": "0", "starts_at": "09:00", "ends_at": "17:00"}, "agent"),
    ],
)
def test_hours_that_cannot_be_are_refused_and_nothing_is_saved(department, other_department, row, field) -> None:
    manager = logged_in(staff("manager", department, group="Department managers"))
    stranger = staff("stranger", other_department)
    row = {name: str(stranger.pk) if value == "STRANGER" else value for name, value in row.items()}
    data = department_form(department) | {"name": department.name, "working_hours-TOTAL_FORMS": "1"}
    data |= {"working_hours-0-department": str(department.pk)} | {f"working_hours-0-{k}": v for k, v in row.items()}
    response = manager.post(page(department), data)
    assert response.status_code == 200
    formsets = {f.formset.prefix: f.formset for f in response.context["inline_admin_formsets"]}
    assert field in formsets["working_hours"].errors[0]
    assert not WorkingHours.objects.exists()


def test_another_departments_hours_are_out_of_reach(department, other_department) -> None:
    manager = logged_in(staff("manager", department, group="Department managers"))
    assert manager.get(page(other_department)).status_code == 302
