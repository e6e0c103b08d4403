"""What a search finds (appointments.search, the API's `q` and the back office's search box alike): the reference, the
claimant's name, email or phone containing the text, ignoring case; a phone typed from its "+" as its beginning, one
typed in national form by its digits; each appointment once, however many of its columns match; only the caller's
departments, counted exactly."""

import pytest
from django.test import Client

from appointments.models import Appointment
from tests.factories import in_days, make_appointment
from tests.helpers import logged_in, staff

URL = "/api/v1/appointments"
CHANGELIST = "/admin/appointments/appointment/"


def _claimant(name: str, email: str, phone: str, case: str) -> dict[str, object]:
    return {"name": name, "email": email, "phone_number": phone, "data": {"Case number": case}}


@pytest.fixture
def booked(department, other_department) -> None:
    for reference, name, email, phone in (
        ("ABC123", "Ada Lovelace", "ada@example.com", "+447911123456"),
        ("XYZ", "Alan Turing", "alan.turing@bletchley.example", "+442071234567"),
        ("LOV-9", "Grace Hopper", "grace@navy.example", "+33142685300"),
    ):
        make_appointment(department, reference=reference, claimant=_claimant(name, email, phone, reference))
    # Another department's Lovelace: never found by this department's staff, never counted.
    make_appointment(
        other_department, reference="THEIRS", claimant={"name": "Ada Lovelace", "email": "ada@example.com"}
    )


@pytest.fixture
def desk(department) -> Client:
    return logged_in(staff("search-desk", department))


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("lovelace", ["ABC123"]),  # a surname, any case
        ("ADA LOVE", ["ABC123"]),  # across the space
        ("lov", ["ABC123", "LOV-9"]),  # the name's and another's reference: each side of the search
        ("c12", ["ABC123"]),  # a reference's middle
        ("bletchley", ["XYZ"]),  # an email's domain
        ("@bletchley.example", ["XYZ"]),  # with its "@"
        ("alan.turing@", ["XYZ"]),  # an address's beginning
        ("Alan.Turing@Bletchley.Example", ["XYZ"]),  # a whole address, any case
        ("+4420712", ["XYZ"]),  # a phone's beginning
        ("+44 20 7123", ["XYZ"]),  # typed with spaces
        ("020 7123 4567", ["XYZ"]),  # national form: its digits
        ("4567", ["XYZ"]),  # a phone's last digits
        ("+4479", ["ABC123"]),
        ("+33", ["LOV-9"]),
        ("+42", []),  # a "+" is a number's beginning, never its middle (+3314268..., +4420...)
        ("nobody", []),
    ],
)
def test_what_a_term_finds_through_the_api_and_the_back_office(api, desk, booked, text, found) -> None:
    body = api.get(URL, {"q": text}).json()
    assert sorted(item["reference"] for item in body["data"]) == found
    assert body["meta"]["total"] == len(found)
    listed = desk.get(CHANGELIST, {"q": text}).context["cl"].result_list
    assert sorted(appointment.reference for appointment in listed) == found


def test_an_appointment_found_by_every_column_is_listed_and_counted_once(api, department) -> None:
    twin = _claimant("Twin Twin", "twin@twin.example", "+447911123456", "1")
    make_appointment(department, reference="TWIN", claimant=twin)
    body = api.get(URL, {"q": "twin"}).json()
    assert [item["reference"] for item in body["data"]] == ["TWIN"]
    assert body["meta"]["total"] == 1


def test_blank_text_narrows_nothing(department, booked) -> None:
    everything = set(Appointment.objects.values_list("pk", flat=True))
    assert set(Appointment.objects.search("  ").values_list("pk", flat=True)) == everything


def test_a_search_counts_the_callers_matches_exactly_across_pages(api, department, other_department) -> None:
    for n in range(7):
        who = _claimant(f"Maria Lovelace {n}", f"m{n}@x.example", "+447911000000", "1")
        make_appointment(department, reference=f"M{n}", appointment_at=in_days(1 + n), claimant=who)
        make_appointment(other_department, reference=f"O{n}", claimant={"name": f"Olu Lovelace {n}"})
    pages = [api.get(URL, {"q": "lovelace", "per_page": 3, "page": page}).json() for page in (1, 2, 3)]
    assert [page["meta"]["total"] for page in pages] == [7, 7, 7]
    assert [page["meta"]["last_page"] for page in pages] == [3, 3, 3]
    assert [item["reference"] for page in pages for item in page["data"]] == [f"M{n}" for n in range(7)]
