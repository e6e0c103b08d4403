"""Booking a claimant who phoned in, in the back office: the API's service and its messages on the form, the
department's data fields and defaults, the time in the department's zone (a time the clocks skip or repeat is
refused), the clash of an agent's two calls named."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from appointments.booking import local_moment
from appointments.models import Appointment
from claimants.models import ClaimantData
from tests.factories import in_days, make_appointment
from tests.helpers import logged_in, staff

BOOK = "/admin/appointments/appointment/add/"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def desk(department):
    return logged_in(staff("desk", department))


def form(**fields) -> dict:
    day = in_days(5)
    return {"date": f"{day:%Y-%m-%d}", "time": "10:30", "duration_in_minutes": "45", "claimant_name": "Phoned In",
            "claimant_phone_number": "07911 123456", **fields}  # fmt: skip


def test_an_agent_books_a_claimant_who_phoned_in(desk, department) -> None:
    case = department.data_fields.get(name="Case number")
    page = desk.get(BOOK)
    assert page.status_code == 200
    assert "Time (Europe/London)" in page.content.decode()
    response = desk.post(BOOK, form(**{f"data_{case.pk}": "PH-1"}))
    assert response.status_code == 302
    booked = Appointment.objects.get(claimant__name="Phoned In")
    assert response["Location"] == f"/admin/appointments/appointment/{booked.pk}/change/"
    local = booked.appointment_at.astimezone(LONDON)
    assert (local.date(), local.time()) == (in_days(5).date(), time(10, 30))
    assert booked.duration_in_minutes == 45
    assert booked.claimant.phone_number == "+447911123456"
    assert ClaimantData.objects.get(claimant=booked.claimant, field=case).value == "PH-1"
    assert booked.features_bandwidth == department.features_bandwidth  # the department's defaults


def test_the_services_errors_show_on_the_form_and_nothing_is_booked(desk, department) -> None:
    response = desk.post(BOOK, form(claimant_phone_number="not a phone", is_interpreter_needed="on"))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "claimant_phone_number" in errors
    assert errors["interpreter_language"] == [
        "The “Interpreter language” field is required when an interpreter is needed."
    ]
    case = department.data_fields.get(name="Case number")
    assert "required" in errors[f"data_{case.pk}"][0]
    assert not Appointment.objects.filter(claimant__name="Phoned In").exists()


def test_an_agents_overlapping_call_is_refused_with_the_clash(desk, department) -> None:
    agent = staff("dana", department)
    at = datetime.combine(in_days(5).date(), time(10, 0), tzinfo=LONDON)
    make_appointment(department, appointment_at=at, reference="FIRST", agent_id=agent.pk)
    case = department.data_fields.get(name="Case number")
    response = desk.post(BOOK, form(agent=str(agent.pk), **{f"data_{case.pk}": "PH-2"}))
    assert response.status_code == 200
    assert "The agent already has appointment FIRST" in response.context["form"].errors["agent"][0]


def test_several_departments_ask_which_first(department, other_department) -> None:
    both = logged_in(staff("both", department, other_department))
    page = both.get(BOOK).content.decode()
    assert "Which department is the appointment with?" in page
    assert "Time (Europe/London)" in both.get(BOOK, {"department": str(other_department.pk)}).content.decode()


@pytest.mark.parametrize(
    ("day", "clock", "expected"),
    [
        (date(2026, 3, 29), time(0, 30), datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
        (date(2026, 3, 29), time(1, 30), "does not exist"),  # the clocks go forward at 01:00 GMT to 02:00 BST
        (date(2026, 3, 29), time(2, 30), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        (date(2026, 10, 25), time(1, 30), "happens twice.*choose 01:30 BST or 01:30 GMT"),  # back at 02:00 BST
        (date(2026, 10, 25), time(2, 30), datetime(2026, 10, 25, 2, 30, tzinfo=UTC)),
        (date(2026, 7, 1), time(10, 30), datetime(2026, 7, 1, 9, 30, tzinfo=UTC)),
    ],
)
def test_local_times_across_the_change_of_clocks(day, clock, expected) -> None:
    from django.core.exceptions import ValidationError

    if isinstance(expected, str):
        with pytest.raises(ValidationError, match=expected):
            local_moment(day, clock, LONDON)
    else:
        assert local_moment(day, clock, LONDON) == expected


def test_any_agent_books_the_round_robins_first_free_agent_and_says_when_nobody_is_free(desk, department) -> None:
    from appointments.availability import WorkingHours

    ann, bob = staff("ann", department), staff("bob", department)
    for agent in (ann, bob):
        for weekday in range(7):
            WorkingHours.objects.create(
                department=department, agent=agent, weekday=weekday, starts_at=time(9), ends_at=time(17)
            )
    earlier = datetime.combine(in_days(3).date(), time(9), tzinfo=LONDON)
    make_appointment(department, appointment_at=earlier, reference="ANN", agent_id=ann.pk)  # Ann had the last one
    case = department.data_fields.get(name="Case number")
    booked = []
    for n in range(2):
        body = form(any_agent="on", claimant_name=f"Caller {n}", **{f"data_{case.pk}": f"PH-{n}"})
        response = desk.post(BOOK, body)
        assert response.status_code == 302, response.context["form"].errors
        booked.append(Appointment.objects.get(claimant__name=f"Caller {n}").agent_id)
    assert booked == [bob.pk, ann.pk]  # Bob never had one; then only Ann is free at 10:30
    response = desk.post(BOOK, form(any_agent="on", claimant_name="Caller 2", **{f"data_{case.pk}": "PH-2"}))
    assert response.status_code == 200
    [message] = response.context["form"].errors["time"]
    day = in_days(5).date()
    assert message.startswith("No agent is free then. Free times from then: ")
    assert f"{day:%a} {day.day} {day:%b %Y}, 11:30" in message  # 10:30 and 11:00 are taken by the 45-minute calls
    assert not Appointment.objects.filter(claimant__name="Caller 2").exists()


def test_the_forms_errors_name_its_labels_not_the_apis_paths(desk, department) -> None:
    """Issue 24.5: the service's messages (the API's, about `claimant.phone_number`, `appointment at`) say the
    form's labels on the page."""
    case = department.data_fields.get(name="Case number")
    past = in_days(-2)
    response = desk.post(BOOK, form(claimant_phone_number="not a phone", date=f"{past:%Y-%m-%d}"))
    page = " ".join(response.content.decode().split())
    errors = response.context["form"].errors
    assert errors["claimant_phone_number"][0].startswith("The “Phone number” field ")
    assert errors["time"] == ["The “Time” field must be a date after now."]
    assert errors[f"data_{case.pk}"] == ["The “Case number” field is required."]
    for path in ("claimant.phone_number", "appointment at", "claimant.data", "appointment_at"):
        assert path not in page
    assert not Appointment.objects.filter(claimant__name="Phoned In").exists()


def next_clocks_back(after: date) -> date:
    """The next day, from `after`, on which 01:30 happens twice in London (the last Sunday of October)."""
    from datetime import timedelta

    from appointments.local_time import local_readings

    day = after
    while not local_readings(day, time(1, 30), LONDON):
        day += timedelta(days=1)
    return day


@pytest.mark.parametrize(("reading", "offset"), [("0", 1), ("1", 0)])
def test_the_repeated_hour_offers_both_readings_to_choose_from(desk, department, reading, offset) -> None:
    """01:30 the night the clocks go back is offered as 01:30 BST and 01:30 GMT; the one chosen is booked."""
    case = department.data_fields.get(name="Case number")
    day = next_clocks_back(in_days(2).date())
    body = form(date=f"{day:%Y-%m-%d}", time="01:30", **{f"data_{case.pk}": "PH-9"})
    asked = desk.post(BOOK, body)
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "01:30 happens twice that day in Europe/London (the clocks go back): choose 01:30 BST or 01:30 GMT." in page
    assert 'type="radio" name="reading" value="0"' in page
    assert 'type="radio" name="reading" value="1"' in page
    assert "01:30 BST" in page
    assert "01:30 GMT" in page
    assert not Appointment.objects.filter(claimant__name="Phoned In").exists()

    booked = desk.post(BOOK, {**body, "reading": reading})
    assert booked.status_code == 302, booked.context["form"].errors
    at = Appointment.objects.get(claimant__name="Phoned In").appointment_at
    assert at == datetime.combine(day, time(1 - offset, 30), tzinfo=UTC)  # 01:30 BST is 00:30 UTC
