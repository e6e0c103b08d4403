"""Every time a person reads in the back office, and in the service's messages, is in the appointment's
department's zone and labelled, in the one format `config.local_time` declares (issue 17.10): the booking's
success message, the change page's heading and breadcrumb, the clash message (the API's too), the meetings,
deliveries, notifications and tokens pages; in GMT, in BST, across the change of clocks, and for a department in
another zone."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiToken
from accounts.services import api_token_create
from appointments.local_time import local_clock, local_label, local_span
from appointments.models import Appointment
from meetings.models import Meeting
from notifications.models import Notification
from tests.factories import make_appointment
from tests.helpers import Receiver, logged_in, patch_url, run_tasks, staff
from tests.support import persona
from webhooks.models import Attempt, Delivery, Endpoint

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
BOOK = "/admin/appointments/appointment/add/"
# A time as the back office used to write it beside a labelled one: a bare `2027-06-10 09:00`, or a clock in UTC.
UNLABELLED = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d|\d\d:\d\d(:\d\d)? UTC|[ap]\.m\.")


def visible_text(html: str) -> str:
    """The page's text a person reads (no scripts, styles or attributes, where a machine format may live)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def agent_user(department):
    return staff("desk", department)


def book(desk: Client, department, day: str, clock: str, **fields: str) -> Any:
    """The booking form posted and followed; `.booked` is the appointment it made, if any."""
    case = department.data_fields.get(name="Case number")
    body = {"date": day, "time": clock, "duration_in_minutes": "45", "claimant_name": "Phoned In",
            f"data_{case.pk}": "PH-1", **fields}  # fmt: skip
    response = desk.post(BOOK, body, follow=True)
    assert response.status_code == 200
    response.booked = Appointment.objects.filter(claimant__name="Phoned In").first()  # type: ignore[attr-defined]
    return response


class TestTheFormat:
    @pytest.mark.parametrize(
        ("start", "minutes", "zone", "span"),
        [
            (datetime(2027, 6, 10, 9, tzinfo=UTC), 45, LONDON, "Thu 10 Jun 2027, 10:00 to 10:45 BST"),
            (datetime(2027, 1, 14, 10, tzinfo=UTC), 45, LONDON, "Thu 14 Jan 2027, 10:00 to 10:45 GMT"),
            # The clocks go forward at 01:00 GMT: an hour's call from 00:30 ends at 02:30 BST.
            (datetime(2027, 3, 28, 0, 30, tzinfo=UTC), 60, LONDON, "Sun 28 Mar 2027, 00:30 GMT to 02:30 BST"),
            # They go back at 02:00 BST: 01:30 BST and, an hour later, 01:30 GMT.
            (datetime(2027, 10, 31, 0, 30, tzinfo=UTC), 60, LONDON, "Sun 31 Oct 2027, 01:30 BST to 01:30 GMT"),
            (datetime(2027, 6, 10, 3, 30, tzinfo=UTC), 60, NEW_YORK,
             "Wed 9 Jun 2027, 23:30 EDT to Thu 10 Jun 2027, 00:30 EDT"),
        ],
    )  # fmt: skip
    def test_a_span_names_its_zone_and_each_side_of_a_change_of_clocks(self, start, minutes, zone, span) -> None:
        assert local_span(start, start + timedelta(minutes=minutes), zone) == span

    def test_a_clock_alone_is_labelled_too(self) -> None:
        assert local_clock(datetime(2027, 6, 10, 9, tzinfo=UTC), LONDON) == "10:00 BST"
        assert local_clock(datetime(2027, 1, 10, 15, tzinfo=UTC), NEW_YORK) == "10:00 EST"


class TestTheBookingAndItsPage:
    @pytest.mark.parametrize(
        ("day", "label"),
        [("2027-06-10", "Thu 10 Jun 2027, 10:00 BST"), ("2027-01-14", "Thu 14 Jan 2027, 10:00 GMT")],
    )
    def test_a_10_oclock_booking_says_10_oclock_in_the_message_heading_and_breadcrumb(
        self, agent_user, department, day, label
    ) -> None:
        with time_machine.travel(datetime(2027, 1, 4, 12, tzinfo=UTC), tick=False):
            response = book(logged_in(agent_user), department, day, "10:00")
        booked = response.booked
        assert booked.appointment_at.astimezone(LONDON).hour == 10
        message = next(str(m) for m in response.context["messages"])
        assert message == f"Booked appointment {booked.reference} ({label})."
        page = response.content.decode()
        heading = re.search(r"<h2>(.*?)</h2>", page, re.S)
        assert heading is not None
        assert heading.group(1).strip() == f"{booked.reference} ({label})"
        breadcrumbs = re.search(r'<div class="breadcrumbs">(.*?)</div>', page, re.S)
        assert breadcrumbs is not None
        assert label in breadcrumbs.group(1)
        assert f"<title>{booked.reference} ({label}) |" in page
        assert not UNLABELLED.search(visible_text(page))

    def test_the_clocks_change_inside_the_call(self, agent_user, department) -> None:
        """Booked on the eve of the change for 00:30 GMT, an hour long: the page says where each end falls."""
        with time_machine.travel(datetime(2027, 3, 27, 12, tzinfo=UTC), tick=False):
            desk = logged_in(agent_user)
            response = book(desk, department, "2027-03-28", "00:30", duration_in_minutes="60")
            page = visible_text(response.content.decode())
            today = visible_text(desk.get("/admin/appointments/appointment/?show=week").content.decode())
        assert response.booked.appointment_at == datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
        assert "Sun 28 Mar 2027, 00:30 GMT to 02:30 BST" in page  # the meeting's details
        assert "Sun 28 Mar 2027, 00:30 GMT" in today
        assert not UNLABELLED.search(page)

    def test_the_change_forms_time_names_the_departments_zone(self, agent_user, department) -> None:
        department.time_zone = "America/New_York"
        department.save()
        appointment = make_appointment(department)
        page = logged_in(agent_user).get(f"/admin/appointments/appointment/{appointment.pk}/change/").content.decode()
        assert "Time (America/New York)" in page
        assert "In the department's time zone; the API shows it in UTC." in page
        assert "DateTimeShortcuts.js" not in page  # Django's script, whose note compared the browser with the server


class TestTheClashMessage:
    def test_the_api_and_the_back_office_say_the_same_local_time(self, agent_user, department) -> None:
        agent = staff("agent-a", department)
        with time_machine.travel(datetime(2027, 6, 1, 12, tzinfo=UTC), tick=False):
            api, desk = persona("api-agent", department).client(), logged_in(agent_user)
            first = make_appointment(department, appointment_at=datetime(2027, 6, 10, 9, tzinfo=UTC),
                                     duration_in_minutes=45, agent_id=agent.pk)  # fmt: skip
            second = make_appointment(department, appointment_at=datetime(2027, 6, 11, 9, tzinfo=UTC))
            body = {"agent_id": agent.pk, "appointment_at": "2027-06-10T09:30:00Z"}
            response = api.patch(patch_url(second), body, format="json")
            form = book(desk, department, "2027-06-10", "10:15", agent=str(agent.pk))
        expected = f"The agent already has appointment {first.reference}, Thu 10 Jun 2027, 10:00 to 10:45 BST, which "
        expected += "overlaps this one."
        assert response.status_code == 422
        assert response.json() == {"message": expected, "errors": {"agent_id": [expected]}}
        assert form.context["form"].errors["agent"] == [expected]
        assert form.booked is None
        assert Appointment.objects.filter(agent=agent).count() == 1  # nothing booked, nothing moved

    def test_in_the_zone_of_the_appointment_being_changed(self, department) -> None:
        department.time_zone = "America/New_York"
        department.save()
        agent = staff("agent-ny", department)
        with time_machine.travel(datetime(2027, 1, 4, 12, tzinfo=UTC), tick=False):
            api = persona("api-agent", department).client()
            first = make_appointment(department, appointment_at=datetime(2027, 1, 14, 15, tzinfo=UTC),
                                     duration_in_minutes=30, agent_id=agent.pk)  # fmt: skip
            second = make_appointment(department, appointment_at=datetime(2027, 1, 15, 15, tzinfo=UTC))
            body = {"agent_id": agent.pk, "appointment_at": "2027-01-14T15:15:00Z"}
            response = api.patch(patch_url(second), body, format="json")
        assert response.json()["errors"]["agent_id"] == [
            f"The agent already has appointment {first.reference}, Thu 14 Jan 2027, 10:00 to 10:30 EST, which "
            "overlaps this one."
        ]


@pytest.fixture
def new_york(department):
    department.time_zone = "America/New_York"
    department.save()
    return department


class TestTheOtherPages:
    """Meetings, deliveries (and their attempts), notifications and tokens, for a department in New York."""

    def test_meetings_and_notifications_are_in_the_appointments_zone(self, new_york) -> None:
        manager = logged_in(staff("manager", new_york, group="Department managers"))
        appointment = make_appointment(new_york)
        run_tasks()
        notification = Notification.objects.filter(appointment=appointment).first()
        assert notification is not None
        assert notification.sent_at is not None
        name = f"{appointment.reference} ({local_label(appointment.appointment_at, NEW_YORK)})"
        pages = {
            "/admin/meetings/meeting/": [local_label(appointment.meeting.start_date, NEW_YORK)],
            f"/admin/meetings/meeting/{appointment.meeting.pk}/change/": [
                local_label(appointment.meeting.end_date, NEW_YORK),
                name,
            ],
            "/admin/notifications/notification/": [local_label(notification.created_at, NEW_YORK), name],
            f"/admin/notifications/notification/{notification.pk}/change/": [
                local_label(notification.sent_at, NEW_YORK)
            ],
            "/admin/claimants/claimant/": [name],
        }
        for url, expected in pages.items():
            response = manager.get(url)
            assert response.status_code == 200, url
            text = visible_text(response.content.decode())
            for label in expected:
                assert label in text, (url, label)
            assert not UNLABELLED.search(text), (url, UNLABELLED.search(text))

    def test_deliveries_and_their_attempts_are_in_the_endpoints_departments_zone(self, new_york, settings) -> None:
        settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
        manager = logged_in(staff("manager", new_york, group="Department managers"))
        with Receiver(statuses=[410]) as receiver:
            endpoint = Endpoint.objects.create(department=new_york, url=receiver.url)
            make_appointment(new_york)
            run_tasks()
        delivery = Delivery.objects.get()
        attempt = Attempt.objects.get(delivery=delivery)
        assert delivery.finished_at is not None
        listing = visible_text(manager.get("/admin/webhooks/delivery/").content.decode())
        assert local_label(delivery.created_at, NEW_YORK) in listing
        change = visible_text(manager.get(f"/admin/webhooks/delivery/{delivery.pk}/change/").content.decode())
        assert local_label(delivery.finished_at, NEW_YORK) in change
        assert local_label(attempt.at, NEW_YORK) in change
        endpoint_page = manager.get(f"/admin/webhooks/endpoint/{endpoint.pk}/change/").content.decode()
        assert local_label(endpoint.created_at, NEW_YORK) in visible_text(endpoint_page)
        for text in (listing, change, visible_text(endpoint_page)):
            assert not UNLABELLED.search(text), UNLABELLED.search(text)

    def test_tokens_are_in_the_zone_of_the_staff_member_reading_them(self, new_york) -> None:
        superuser = staff("boss", new_york, superuser=True)
        with time_machine.travel(datetime(2027, 6, 10, 9, tzinfo=UTC), tick=False):
            token, _secret = api_token_create(
                user=superuser, name="CRM", expires_in=timedelta(days=30), actor=superuser, departments=[new_york]
            )
            client = logged_in(superuser)
            listing = visible_text(client.get("/admin/accounts/apitoken/").content.decode())
            change = visible_text(client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode())
            added = client.post(
                "/admin/accounts/apitoken/add/",
                {"user": superuser.pk, "name": "Other", "expires_in_days": "30", "departments": [new_york.pk]},
            )
        created = visible_text(added.content.decode())
        assert "Thu 10 Jun 2027, 05:00 EDT" in listing  # created
        assert "Sat 10 Jul 2027, 05:00 EDT" in listing  # expires
        assert "Sat 10 Jul 2027, 05:00 EDT" in change
        assert "expires Sat 10 Jul 2027, 05:00 EDT." in " ".join(created.split())
        for text in (listing, change, created):
            assert not UNLABELLED.search(text), UNLABELLED.search(text)
        assert ApiToken.objects.count() == 2

    def test_lists_read_the_zone_in_their_one_query(self, new_york) -> None:
        """The labels' zone comes with the rows: the lists cost the same queries for 1 row and for 5."""
        manager = logged_in(staff("manager", new_york, group="Department managers"))

        def queries(url: str) -> int:
            with CaptureQueriesContext(connection) as captured:
                assert manager.get(url).status_code == 200
            return len(captured)

        urls = ["/admin/meetings/meeting/", "/admin/notifications/notification/", "/admin/claimants/claimant/"]
        make_appointment(new_york)
        run_tasks()
        one = [queries(url) for url in urls]
        for _ in range(4):
            make_appointment(new_york)
        run_tasks()
        assert Meeting.objects.count() == 5
        assert [queries(url) for url in urls] == one
