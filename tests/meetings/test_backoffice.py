"""The meeting in the back office: the waiting room (today's appointments, waiting first, absent claimants
released), Start (admits and opens the agent's meeting as moderator), and the participants panel's actions."""

import json
import re
from datetime import UTC, date, datetime, timedelta

import jwt
import pytest
import time_machine
from django.utils import timezone

from appointments.models import Appointment, Status
from meetings.devices import participant_record_device_check
from meetings.identity import participant_check_identity
from meetings.models import Participant, Role
from meetings.services.journey import participant_join
from tests.factories import a_browser, browser_that_passed, make_appointment
from tests.helpers import logged_in, staff

SECRET = "back-office-test-secret-0123456789ab"


@pytest.fixture
def desk(department):
    return logged_in(staff("desk-agent", department))


def soon(department, minutes: int = 10, **options) -> Appointment:
    claimant = {"name": "Ada Lovelace", "date_of_birth": date(1990, 5, 17), "data": {"Case number": "C-1"}}
    when = timezone.now() + timedelta(minutes=minutes)
    return make_appointment(department, appointment_at=when, duration_in_minutes=30, claimant=claimant, **options)


def waiting(appointment: Appointment) -> Participant:
    person = Participant.objects.select_related("appointment__claimant").get(
        appointment=appointment, role=Role.CLAIMANT
    )
    participant_record_device_check(participant=person, results={"camera": True, "microphone": True})
    return participant_join(participant=person, browser=browser_that_passed(person))


@time_machine.travel(datetime(2026, 12, 4, 12, 0, tzinfo=UTC))  # at midday: +90 minutes is still today (seen
# failing after 22:30, when it was tomorrow's)
def test_the_waiting_room_lists_today_with_who_waits_first(desk, department, other_department) -> None:
    later = soon(department, minutes=90)
    now_waiting = soon(department, minutes=20)
    waiting(now_waiting)
    make_appointment(department, appointment_at=timezone.now() + timedelta(days=2))  # not today
    make_appointment(other_department, appointment_at=timezone.now() + timedelta(minutes=15))  # not theirs
    page = desk.get("/admin/appointments/appointment/waiting-room/")
    assert page.status_code == 200
    rows = [row["appointment"].pk for row in page.context["rows"]]
    assert rows == [now_waiting.pk, later.pk]
    html = page.content.decode()
    assert "camera ok, microphone ok" in html
    assert "identity confirmed" in html
    assert html.count('class="button start-session"') == 1  # the later one's window has not opened
    fragment = desk.get("/admin/appointments/appointment/waiting-room/?fragment=1").content.decode()
    assert "<html" not in fragment
    assert "waiting-room-table" in fragment


def test_the_waiting_room_lets_go_of_claimants_who_left(desk, department, settings) -> None:
    settings.WAITING_ABSENCE_SECONDS = 60
    appointment = soon(department)
    person = waiting(appointment)
    Participant.objects.filter(pk=person.pk).update(last_seen_at=timezone.now() - timedelta(seconds=61))
    desk.get("/admin/appointments/appointment/waiting-room/")
    assert Appointment.objects.get(pk=appointment.pk).status == Status.SCHEDULED


def test_start_admits_the_claimant_and_opens_the_agents_meeting_as_moderator(desk, department, settings) -> None:
    settings.JITSI_APP_ID = "appointments"
    settings.JITSI_APP_SECRET = SECRET
    settings.VIDEO_BASE_URL = "https://video.example.org"
    appointment = soon(department)
    waiting(appointment)
    response = desk.post(f"/admin/appointments/appointment/{appointment.pk}/start/")
    meeting_url = f"/admin/appointments/appointment/{appointment.pk}/meeting/"
    assert (response.status_code, response["Location"]) == (302, meeting_url)
    assert Appointment.objects.get(pk=appointment.pk).status == Status.IN_PROGRESS
    assert Participant.objects.get(appointment=appointment, role=Role.CLAIMANT).admitted_at is not None
    page = desk.get(meeting_url)
    assert "https://video.example.org" in page["Content-Security-Policy"]
    found = re.search(r'id="meeting-options" type="application/json">(.*?)</script>', page.content.decode())
    assert found is not None
    options = json.loads(found.group(1))
    claims = jwt.decode(options["jwt"], SECRET, algorithms=["HS256"], audience="jitsi")
    assert claims["context"]["user"]["moderator"] is True
    assert claims["context"]["user"]["name"] == "desk-agent"
    assert 'data-after-url="/admin/appointments/appointment/' in page.content.decode()


def test_the_agents_custom_redirect_is_where_the_meeting_ends(desk, department) -> None:
    appointment = soon(
        department,
        use_custom_post_call_redirect=True,
        custom_agent_post_call_redirect_url="https://crm.example.com/done",
    )
    page = desk.get(f"/admin/appointments/appointment/{appointment.pk}/meeting/").content.decode()
    assert 'data-after-url="https://crm.example.com/done"' in page


def test_start_outside_the_lifecycle_says_why_and_changes_nothing(desk, department) -> None:
    from appointments.services import appointment_cancel

    appointment = soon(department)
    appointment_cancel(appointment=appointment, reason=None, actor=None)
    response = desk.post(f"/admin/appointments/appointment/{appointment.pk}/start/", follow=True)
    assert "The status cannot change from cancelled to in progress." in response.content.decode()
    assert Appointment.objects.get(pk=appointment.pk).status == Status.CANCELLED


def test_start_is_post_only_and_scoped_to_the_staff_members_departments(department, other_department) -> None:
    appointment = make_appointment(other_department, appointment_at=timezone.now() + timedelta(minutes=10))
    outsider = logged_in(staff("outsider", department))
    assert outsider.get(f"/admin/appointments/appointment/{appointment.pk}/start/").status_code == 405
    assert outsider.post(f"/admin/appointments/appointment/{appointment.pk}/start/").status_code == 404
    assert outsider.get(f"/admin/appointments/appointment/{appointment.pk}/meeting/").status_code == 404
    assert Appointment.objects.get(pk=appointment.pk).status == Status.SCHEDULED


def test_the_appointments_page_lists_participants_invites_revokes_and_unlocks(desk, department, settings) -> None:
    settings.IDENTITY_MAX_FAILURES = settings.IDENTITY_LINK_MAX_FAILURES = 1
    appointment = soon(department)
    person = Participant.objects.select_related("appointment__claimant").get(
        appointment=appointment, role=Role.CLAIMANT
    )
    participant_check_identity(participant=person, browser=a_browser(), date_of_birth=date(2000, 1, 1))
    change = f"/admin/appointments/appointment/{appointment.pk}/change/"
    html = desk.get(change).content.decode()
    assert appointment.url in html
    assert "identity LOCKED" in html
    assert "Unlock identity check" in html

    desk.post(f"/admin/appointments/appointment/{appointment.pk}/participants/{person.pk}/unlock/")
    assert Participant.objects.get(pk=person.pk).identity_locked_at is None

    desk.post(f"/admin/appointments/appointment/{appointment.pk}/guests/", {"guest_display_name": "Sam Solicitor"})
    guest = Participant.objects.get(appointment=appointment, role=Role.GUEST)
    assert guest.display_name == "Sam Solicitor"
    assert f"/join/{guest.token}" in desk.get(change).content.decode()

    desk.post(f"/admin/appointments/appointment/{appointment.pk}/participants/{guest.pk}/revoke/")
    assert Participant.objects.get(pk=guest.pk).revoked_at is not None
    # The claimant's link is not revoked from here.
    desk.post(f"/admin/appointments/appointment/{appointment.pk}/participants/{person.pk}/revoke/")
    assert Participant.objects.get(pk=person.pk).revoked_at is None
