"""Every back-office form in a real browser: what it shows is what is stored, and saving it unchanged changes
nothing (issue 17.1); its inputs are labelled (issue 17.14).

A date or time input the browser cannot read (`value="17/03/1984"` in `<input type="date">`) is shown blank and
posted empty: a form test that builds its own POST never sees that, only a browser does."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse

from appointments.models import Appointment, Department
from claimants.models import ClaimantDataField, FieldType
from tests.e2e.conftest import accessibility_violations
from tests.factories import ClaimantDataFieldFactory, UserFactory, in_days, make_appointment
from tests.helpers import browser_sign_in
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a long and unguessable test password"
BORN = date(1984, 3, 17)  # 17/03/1984 in en-GB: the day the browser cannot read
# Written by every request or by signing in, not by saving a form: the admin's own log of who saved what, sessions,
# the sign-in records.
NOT_FORM_DATA = {"admin.logentry", "sessions.session", "axes.accesslog", "axes.accessattempt", "axes.accessfailurelog"}


def every_row() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (history tables included), by model."""
    return {
        model._meta.label_lower: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.label_lower not in NOT_FORM_DATA
    }


def changed_tables(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]) -> dict:
    return {name: (before[name], after[name]) for name in before if before[name] != after[name]}


@pytest.fixture
def back_office(department: Department) -> dict[str, Any]:
    """A superuser (who reaches every form), an appointment whose claimant has a date of birth and one data item
    of each type, one on the night the clocks go back (01:30 comes twice), and a webhook endpoint."""
    root = UserFactory.create(username="root", first_name="Root", is_staff=True, is_superuser=True)
    root.set_password(PASSWORD)
    root.save()
    department.members.add(root)
    fields = ClaimantDataFieldFactory
    fields.create(department=department, name="Amount", type=FieldType.NUMBER, position=2)
    fields.create(department=department, name="Urgent", type=FieldType.BOOLEAN, position=3)
    fields.create(department=department, name="Solicitor", type=FieldType.EMAIL, position=4)
    claimant = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone_number": "+447911123456",
        "date_of_birth": BORN,
        "data": {
            "Case number": "C-1",
            "Incident date": "2026-05-01",
            "Amount": "1250.50",
            "Urgent": True,
            "Solicitor": "law@example.com",
        },
    }
    booked = make_appointment(department, reference="KEEP-ME", appointment_at=in_days(3, 14, 45), claimant=claimant)
    # 01:30 GMT on 31 October 2027, the second 01:30 of that night in London.
    folded = make_appointment(
        department,
        reference="TWICE",
        appointment_at=datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
        claimant={**claimant, "name": "Second Bird"},
    )
    endpoint_create(department=department, data={"url": "https://93.184.215.14/in", "description": "CRM"}, actor=root)
    group = Group.objects.get(name="Agents")
    return {"root": root, "booked": booked, "folded": folded, "group": group}


def forms_to_save(root: Any) -> list[tuple[str, Any]]:
    """One object of every model the back office can change, by change page address. `site._registry` is the
    admin's private table of registered models (there is no public list); a model added to the back office with a
    change form and no object here fails the test, so no form goes unchecked."""
    request = RequestFactory().get("/admin/")
    request.user = root
    found = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.label_lower in NOT_FORM_DATA or not model_admin.has_change_permission(request):
            continue
        objects = list(model_admin.get_queryset(request).order_by("pk"))
        assert objects, f"no {model._meta.label} to save unchanged: add one to the fixture"
        for obj in objects:
            meta = model._meta
            found.append((reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]), obj))
    return found


def test_saving_every_back_office_form_unchanged_changes_nothing(live_server, page, back_office) -> None:
    base = live_server.url
    browser_sign_in(page, base, "root", PASSWORD)
    targets = forms_to_save(back_office["root"])
    assert {type(obj).__name__ for _url, obj in targets} >= {"Appointment", "Department", "Endpoint", "User", "Group"}
    before = every_row()

    for url, obj in targets:
        page.goto(f"{base}{url}")
        if isinstance(obj, Appointment):
            # What the browser shows is what is stored: the date of birth, the date item, the time in London.
            assert page.input_value("#id_claimant_date_of_birth") == BORN.isoformat()
            incident = ClaimantDataField.objects.get(name="Incident date")
            assert page.input_value(f"[name=data_{obj.claimant.data.get(field=incident).pk}]") == "2026-05-01"
            local = obj.appointment_at.astimezone(obj.zone)
            assert page.input_value("#id_appointment_at_0") == f"{local:%Y-%m-%d}"
            assert page.input_value("#id_appointment_at_1") == f"{local:%H:%M}"
        page.click("input[name=_continue]")
        page.wait_for_load_state()
        errors = page.locator(".errornote, .errorlist").all_inner_texts()
        assert errors == [], f"{url}: {errors}"
        assert page.locator(".messagelist .success").count() == 1, url

    after = every_row()
    assert changed_tables(before, after) == {}
    assert page.console_errors == []


def test_the_booking_form_keeps_and_stores_its_dates(live_server, page, back_office, department) -> None:
    """Dates typed into the booking form are stored as typed, and shown again as typed when the form comes back
    with an error."""
    base = live_server.url
    browser_sign_in(page, base, "root", PASSWORD)
    page.goto(f"{base}/admin/appointments/appointment/add/?department={department.pk}")
    page.fill("#id_date", "2027-03-02")
    page.fill("#id_time", "09:15")
    page.fill("#id_claimant_date_of_birth", "1984-03-17")
    page.fill("label:has-text('Incident date') + input", "2026-05-01")
    page.fill("label:has-text('Case number') + input", "PH-9")
    page.click(".submit-row input[type=submit][value='Book the appointment']")  # no claimant name: refused, shown again
    page.wait_for_selector(".errornote")
    assert page.input_value("#id_date") == "2027-03-02"
    assert page.input_value("#id_time") == "09:15"
    assert page.input_value("#id_claimant_date_of_birth") == "1984-03-17"
    assert page.input_value("label:has-text('Incident date') + input") == "2026-05-01"
    page.fill("#id_claimant_name", "Phoned In")
    page.click(".submit-row input[type=submit][value='Book the appointment']")
    page.wait_for_selector(".messagelist .success")
    booked = Appointment.objects.select_related("claimant").get(claimant__name="Phoned In")
    assert booked.appointment_at == datetime(2027, 3, 2, 9, 15, tzinfo=UTC)  # GMT in March
    assert booked.claimant.date_of_birth == BORN
    assert booked.claimant.data.get(field__name="Incident date").value == "2026-05-01"
    assert page.console_errors == []


WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def test_the_change_page_the_list_and_the_booking_form_pass_axe(
    live_server, page, back_office, department, axe_source
) -> None:
    base = live_server.url
    browser_sign_in(page, base, "root", PASSWORD)
    pages = {
        "change page": reverse("admin:appointments_appointment_change", args=[back_office["booked"].pk]),
        "list": reverse("admin:appointments_appointment_changelist") + "?show=all",
        "booking form": reverse("admin:appointments_appointment_add") + f"?department={department.pk}",
    }
    for name, url in pages.items():
        page.goto(f"{base}{url}")
        assert accessibility_violations(page, axe_source, tags=WCAG_22_AA) == [], name
    page.goto(f"{base}{pages['change page']}")
    # Each input of the time has a name of its own; the list's search box and its Join column are named.
    assert page.get_by_label("Date", exact=True).input_value() != ""
    assert page.get_by_label("Time", exact=True).input_value() != ""
    page.goto(f"{base}{pages['list']}")
    assert page.get_by_role("textbox", name="Search appointments").count() == 1
    assert page.locator("#result_list thead th.column-join").text_content().strip() == "Join"
