"""The meeting of an appointment: created with it (a random 10-digit id, an unguessable room on the video base
URL, the appointment's times) and moved with every reschedule, writing only what changed."""

import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from appointments.models import Appointment
from meetings.models import MEETING_ID_MAX, MEETING_ID_MIN, Meeting
from meetings.services import meeting_follow_appointment, meeting_for
from tests.factories import in_days, make_appointment


def test_a_new_appointment_has_its_meeting(appointment, settings) -> None:
    meeting = Meeting.objects.get(appointment=appointment)
    assert MEETING_ID_MIN <= meeting.id <= MEETING_ID_MAX
    assert meeting.room_name == f"Appointment {appointment.reference}"
    assert re.fullmatch(re.escape(settings.VIDEO_BASE_URL) + r"/[A-Za-z0-9]{24}", meeting.room_url)
    assert (meeting.start_date, meeting.end_date) == (appointment.appointment_at, appointment.ends_at)


def test_rooms_and_ids_differ_between_appointments(department) -> None:
    meetings = [make_appointment(department).meeting for _ in range(5)]
    assert len({m.id for m in meetings}) == 5
    assert len({m.room_url for m in meetings}) == 5


def test_rooms_follow_the_configured_video_base_url(department, settings) -> None:
    settings.VIDEO_BASE_URL = "https://video.example.org"
    assert make_appointment(department).meeting.room_url.startswith("https://video.example.org/")


def test_a_clash_of_random_ids_draws_again(department, monkeypatch) -> None:
    taken = make_appointment(department).meeting.id
    # A reference, then a meeting id: the first meeting id is taken, so the meeting id alone is drawn again.
    draws = iter([11, taken - MEETING_ID_MIN, 7])
    monkeypatch.setattr("meetings.services.meeting.secrets.randbelow", lambda _n: next(draws))
    appointment = make_appointment(department)
    assert appointment.meeting.id == MEETING_ID_MIN + 7
    assert appointment.reference == str(10**8 + 11)
    assert Meeting.objects.filter(appointment__department=department).count() == 2


def test_a_clash_of_drawn_references_draws_again(department, monkeypatch) -> None:
    taken = make_appointment(department).reference
    draws = iter([int(taken) - 10**8, 13, 6])  # the taken reference is drawn again before a meeting id is drawn
    monkeypatch.setattr("meetings.services.meeting.secrets.randbelow", lambda _n: next(draws))
    appointment = make_appointment(department)
    assert appointment.reference == str(10**8 + 13)
    assert appointment.meeting.id == MEETING_ID_MIN + 6


def test_a_second_meeting_for_one_appointment_is_refused(appointment) -> None:
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        meeting_for(appointment=Appointment.objects.get(pk=appointment.pk))
    assert Meeting.objects.filter(appointment=appointment).count() == 1


def test_following_writes_only_the_columns_that_changed(appointment) -> None:
    meeting = appointment.meeting
    appointment.duration_in_minutes = 30
    with CaptureQueriesContext(connection) as queries:
        changed = meeting_follow_appointment(meeting=meeting, appointment=appointment)
    assert changed == ["end_date"]
    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert "start_date" not in updates[0]
    fresh = Meeting.objects.get(pk=meeting.pk)
    assert fresh.end_date == appointment.appointment_at + timedelta(minutes=30)


def test_following_an_unchanged_appointment_writes_nothing(appointment) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert meeting_follow_appointment(meeting=appointment.meeting, appointment=appointment) == []
    assert len(queries) == 0


def test_following_records_who_moved_it(appointment, agent) -> None:
    appointment.appointment_at = in_days(5)
    meeting_follow_appointment(meeting=appointment.meeting, appointment=appointment, actor=agent.user)
    latest = Meeting.history.filter(id=appointment.meeting.id).latest()
    assert latest.history_user == agent.user
    assert latest.start_date == appointment.appointment_at
