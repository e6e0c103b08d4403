"""A staff member's own calendar feed (issue 24.6): their appointments as iCalendar at a private address, with the
claimant's initials (names only where the department allows), times right on both sides of a change of clocks, only
the secret's digest kept, 404 once rotated, turned off or after leaving."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from appointments.models import Appointment, Department, Status
from desk.feed import feed_address, feed_issue, feed_revoke
from desk.models import CalendarFeed
from tests.factories import make_appointment
from tests.helpers import logged_in, staff, walk_to

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# The clocks go back in the UK at 02:00 BST on Sunday 25 October 2026 (to 01:00 GMT), forward on 29 March 2026.
SATURDAY_BST = datetime(2026, 10, 24, 9, 30, tzinfo=LONDON)  # 08:30 UTC
MONDAY_GMT = datetime(2026, 10, 26, 9, 30, tzinfo=LONDON)  # 09:30 UTC
REPEATED_HOUR_GMT = datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=LONDON)  # the second 01:30: 01:30 UTC


def path_of(secret: str) -> str:
    return f"/calendar/{secret}.ics"


def read(secret: str) -> Calendar:
    answer = Client().get(path_of(secret))
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in answer["Cache-Control"]
    return Calendar.from_ical(answer.content)


@pytest.fixture
def london(department: Department) -> Department:
    department.time_zone = "Europe/London"
    department.save(update_fields=["time_zone"])
    return department


def book(department: Department, agent: User, at: datetime, name: str = "Winifred Quaintance") -> Appointment:
    return make_appointment(
        department,
        agent_id=agent.pk,
        appointment_at=at,
        duration_in_minutes=45,
        claimant={"name": name, "email": "w@example.org", "data": {"Case number": "C-1"}},
    )


@time_machine.travel(datetime(2026, 10, 20, 12, 0, tzinfo=UTC), tick=False)
def test_the_feed_parses_with_bst_and_gmt_times_across_the_change_of_clocks(london: Department) -> None:
    agent = staff("dana", london)
    before = book(london, agent, SATURDAY_BST)
    after = book(london, agent, MONDAY_GMT, name="Ada King Lovelace")
    repeated = book(london, agent, REPEATED_HOUR_GMT)
    cancelled = walk_to(book(london, agent, datetime(2026, 10, 27, 14, 0, tzinfo=LONDON)), Status.CANCELLED)
    colleague = staff("colleague", london)
    book(london, colleague, datetime(2026, 10, 27, 15, 0, tzinfo=LONDON))
    secret = feed_issue(user=agent)

    calendar = read(secret)
    events = {str(event["uid"]): event for event in calendar.walk("VEVENT")}
    uid = "staff-appointment-{}@127.0.0.1".format
    assert set(events) == {uid(before.pk), uid(after.pk), uid(repeated.pk)}  # not the cancelled, not a colleague's
    assert uid(cancelled.pk) not in events
    start = {pk: events[uid(pk)].decoded("dtstart") for pk in (before.pk, after.pk, repeated.pk)}
    # Each start is the same moment as booked, written in London's zone with its rules (a VTIMEZONE).
    assert start[before.pk] == datetime(2026, 10, 24, 8, 30, tzinfo=UTC)
    assert start[after.pk] == datetime(2026, 10, 26, 9, 30, tzinfo=UTC)
    assert start[repeated.pk] == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert [start[pk].astimezone(LONDON).strftime("%H:%M %Z") for pk in (before.pk, after.pk, repeated.pk)] == [
        "09:30 BST",
        "09:30 GMT",
        "01:30 GMT",
    ]
    assert events[uid(before.pk)]["dtstart"].params["TZID"] == "Europe/London"
    assert events[uid(after.pk)].decoded("dtend") - start[after.pk] == timedelta(minutes=45)
    zones = {str(zone["tzid"]) for zone in calendar.walk("VTIMEZONE")}
    assert zones == {"Europe/London"}
    raw = Client().get(path_of(secret)).content.decode()
    assert "DTSTART;TZID=Europe/London:20261024T093000" in raw.replace("\r\n ", "")
    assert "DTSTART;TZID=Europe/London:20261026T093000" in raw.replace("\r\n ", "")
    # The repeated hour's second 01:30 (GMT) in UTC: RFC 5545 reads a repeated local time as its first (BST).
    assert "DTSTART:20261025T013000Z" in raw
    # The minimum of personal data: initials, no contact details.
    assert str(events[uid(before.pk)]["summary"]) == "Appointment with W. Q."
    assert str(events[uid(after.pk)]["summary"]) == "Appointment with A. K. L."
    assert "Quaintance" not in raw
    assert "w@example.org" not in raw


@time_machine.travel(datetime(2026, 10, 20, 12, 0, tzinfo=UTC), tick=False)
def test_names_only_where_the_department_allows(london: Department) -> None:
    agent = staff("dana", london)
    book(london, agent, SATURDAY_BST)
    london.calendar_feed_shows_names = True
    london.save(update_fields=["calendar_feed_shows_names"])
    (event,) = read(feed_issue(user=agent)).walk("VEVENT")
    assert str(event["summary"]) == "Appointment with Winifred Quaintance"


def test_only_the_digest_is_kept_and_rotating_makes_the_old_address_404(department: Department) -> None:
    agent = staff("dana", department)
    first = feed_issue(user=agent)
    feed = CalendarFeed.objects.get(user=agent)
    assert first not in feed.digest
    assert len(feed.digest) == 64
    read(first)
    second = feed_issue(user=agent)
    assert CalendarFeed.objects.filter(user=agent).count() == 1
    assert Client().get(path_of(first)).status_code == 404
    read(second)
    assert feed_revoke(user=agent) == 1
    assert Client().get(path_of(second)).status_code == 404
    assert Client().get(path_of("not-a-secret")).status_code == 404


def test_an_inactive_accounts_feed_is_404_even_before_its_row_is_gone(department: Department) -> None:
    agent = staff("dana", department)
    secret = feed_issue(user=agent)
    User.objects.filter(pk=agent.pk).update(is_active=False)  # set by hand, not through user_deactivate
    assert Client().get(path_of(secret)).status_code == 404


def test_the_feed_reads_in_constant_queries_as_the_calendar_fills(department: Department) -> None:
    agent = staff("dana", department)
    secret = feed_issue(user=agent)
    book(department, agent, datetime.now(UTC) + timedelta(days=1))
    with CaptureQueriesContext(connection) as one:
        read(secret)
    for day in range(2, 12):
        book(department, agent, datetime.now(UTC) + timedelta(days=day))
    with CaptureQueriesContext(connection) as eleven:
        calendar = read(secret)
    assert len(calendar.walk("VEVENT")) == 11
    assert len(eleven) == len(one) == 2  # the owner by the digest, the appointments with their claimants


def test_the_back_office_page_makes_shows_once_rotates_and_turns_off(department: Department) -> None:
    agent = staff("dana", department)
    client = logged_in(agent)
    page = "/admin/appointments/appointment/my-calendar/"
    assert "You have no calendar feed." in client.get(page).content.decode()
    made = client.post(page, {"action": "issue"})
    assert "no-store" in made["Cache-Control"]
    address = made.context["address"]
    assert address.startswith("http://127.0.0.1:8000/calendar/")
    assert f'value="{address}"' in made.content.decode()
    secret = address.rsplit("/", 1)[1].removesuffix(".ics")
    read(secret)
    shown_again = client.get(page).content.decode()
    assert address not in shown_again  # shown once
    assert "Make a new address" in shown_again
    rotated = client.post(page, {"action": "issue"}).context["address"]
    assert rotated != address
    assert Client().get(path_of(secret)).status_code == 404
    client.post(page, {"action": "off"})
    assert not CalendarFeed.objects.exists()
    assert Client().get(rotated.removeprefix("http://127.0.0.1:8000")).status_code == 404
    assert feed_address("x") == "http://127.0.0.1:8000/calendar/x.ics"
