"""Interpreters and guests wait to be let in (issue 17.9): their links may have been forwarded, so joining puts them in
the waiting room, also once the session has started, and the agent admits each one through `participant_admit`
(the back office's waiting room, the appointment's page and the API alike). Admission is written as the claimant's
is: `admitted_at` and `admitted_by` with history, and a `participant.admitted` event."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from appointments.models import Appointment, Status
from appointments.services import appointment_update
from events.models import Event
from meetings.browsers import Browser
from meetings.devices import participant_record_device_check
from meetings.models import Participant, Role
from meetings.services import (
    PageState,
    page_state,
    participant_admit,
    participant_invite_guest,
    participant_record_consent,
    participant_revoke,
    recording_allowed,
)
from meetings.services.journey import participant_join, participant_leave, participants_release_absent
from tests.factories import DepartmentFactory, a_browser, make_appointment
from tests.helpers import claimant_joins, logged_in, postgres_only, run_together, staff

DEVICE_OK = {"camera": True, "microphone": True, "downlink_kbps": 12000}


def soon(department, **options) -> Appointment:
    claimant = {"name": "Ada Lovelace", "date_of_birth": date(1990, 5, 17), "data": {"Case number": "C-1"}}
    when = timezone.now() + timedelta(minutes=10)
    return make_appointment(department, appointment_at=when, duration_in_minutes=30, claimant=claimant, **options)


def fresh(person: Participant) -> Participant:
    return Participant.objects.select_related("appointment__claimant").get(pk=person.pk)


def guest_joins(guest: Participant, *, consent: bool = True, browser: Browser | None = None) -> Browser:
    """The guest's page: device check, consent when the call records, then join; returns the browser."""
    browser = browser or a_browser()
    participant_record_device_check(participant=fresh(guest), results=DEVICE_OK, browser=browser)
    if guest.appointment.features_call_recording_enable:
        participant_record_consent(participant=fresh(guest), consent=consent, browser=browser)
    participant_join(participant=fresh(guest), browser=browser)
    return browser


def started(appointment: Appointment, actor) -> Appointment:
    appointment_update(appointment=appointment, data={"status": Status.IN_PROGRESS}, actor=actor)
    return Appointment.objects.get(pk=appointment.pk)


def events_of(appointment: Appointment, event_type: str) -> list[dict]:
    return [e.content for e in Event.objects.filter(appointment=appointment, type=event_type).order_by("sequence")]


class TestGuestsWait:
    def test_a_guest_who_opens_the_link_during_the_session_waits_until_the_agent_admits_them(
        self, department, agent
    ) -> None:
        appointment = soon(department)
        claimant_joins(appointment)
        started(appointment, agent.user)
        guest = participant_invite_guest(appointment=appointment, display_name="Sam Solicitor", actor=agent.user)
        browser = guest_joins(guest)

        waiting = fresh(guest)
        assert (waiting.joined_waiting_at is not None, waiting.admitted_at, waiting.admitted_by) == (True, None, None)
        assert page_state(waiting, timezone.now(), browser) == PageState.WAITING  # not into the running call

        admitted = participant_admit(participant=waiting, actor=agent.user)
        stored = fresh(guest)
        assert stored.admitted_at == admitted.admitted_at is not None
        assert stored.admitted_by == agent.user
        assert page_state(stored, timezone.now(), browser) == PageState.MEETING
        latest = stored.history.latest()
        assert (latest.admitted_at, latest.history_user) == (stored.admitted_at, agent.user)
        assert [e["participant"] for e in events_of(appointment, "participant.admitted")][-1] == {
            "id": str(guest.pk),
            "role": "guest",
        }

    def test_the_interpreter_waits_too_and_the_claimant_still_goes_straight_in(self, department, agent) -> None:
        appointment = soon(department, is_interpreter_needed=True, interpreter_language="Welsh")
        started(appointment, agent.user)
        interpreter = Participant.objects.get(appointment=appointment, role=Role.INTERPRETER)
        browser = guest_joins(interpreter)
        assert page_state(fresh(interpreter), timezone.now(), browser) == PageState.WAITING
        claimant = claimant_joins(appointment)  # after the start: the start let the claimant in
        assert fresh(claimant).admitted_at is not None
        assert fresh(claimant).admitted_by is None
        assert [e["participant"]["role"] for e in events_of(appointment, "participant.admitted")] == ["claimant"]

    def test_a_guest_who_arrives_before_the_claimant_is_not_let_in_by_the_start(self, department, agent) -> None:
        appointment = soon(department)
        guest = participant_invite_guest(appointment=appointment, display_name="Sam", actor=agent.user)
        browser = guest_joins(guest)
        # A guest in the waiting room does not make the appointment `waiting`: that is the claimant's.
        assert Appointment.objects.get(pk=appointment.pk).status == Status.SCHEDULED
        claimant_joins(appointment)
        appointment = started(appointment, agent.user)

        claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
        assert (claimant.admitted_at, claimant.admitted_by) == (appointment.session_started_at, agent.user)
        assert claimant.history.latest().history_user == agent.user
        assert fresh(guest).admitted_at is None
        assert page_state(fresh(guest), timezone.now(), browser) == PageState.WAITING
        admitted = events_of(appointment, "participant.admitted")
        assert [e["participant"]["id"] for e in admitted] == [str(claimant.pk)]
        # The claimant's admission travels with the start's own events, after `meeting.started`.
        kinds = list(Event.objects.filter(appointment=appointment).order_by("sequence").values_list("type", flat=True))
        assert kinds[-2:] == ["meeting.started", "participant.admitted"]

    def test_a_guest_admitted_before_the_start_goes_in_when_it_starts(self, department, agent) -> None:
        appointment = soon(department)
        guest = participant_invite_guest(appointment=appointment, display_name="Sam", actor=agent.user)
        browser = guest_joins(guest)
        participant_admit(participant=fresh(guest), actor=agent.user)
        assert page_state(fresh(guest), timezone.now(), browser) == PageState.WAITING  # no session yet
        started(appointment, agent.user)
        assert page_state(fresh(guest), timezone.now(), browser) == PageState.MEETING

    def test_an_admitted_guest_who_reloads_or_rejoins_stays_admitted_and_another_browser_waits_again(
        self, department, agent
    ) -> None:
        appointment = soon(department)
        started(appointment, agent.user)
        guest = participant_invite_guest(appointment=appointment, display_name="Sam", actor=agent.user)
        browser = guest_joins(guest)
        when = participant_admit(participant=fresh(guest), actor=agent.user).admitted_at
        assert page_state(fresh(guest), timezone.now(), browser) == PageState.MEETING  # a reload reads the state

        participant_leave(participant=fresh(guest), browser=browser)  # hung up
        participant_join(participant=fresh(guest), browser=browser)  # and came back from the same browser
        assert fresh(guest).admitted_at == when
        assert page_state(fresh(guest), timezone.now(), browser) == PageState.MEETING

        # The link forwarded: another browser takes it over ("Continue here") and waits to be let in again.
        other = a_browser()
        assert page_state(fresh(guest), timezone.now(), other) == PageState.ELSEWHERE
        participant_join(participant=fresh(guest), browser=other)
        moved = fresh(guest)
        assert (moved.admitted_at, moved.admitted_by) == (None, None)
        assert page_state(moved, timezone.now(), other) == PageState.WAITING
        assert page_state(moved, timezone.now(), browser) == PageState.ELSEWHERE

    def test_a_guest_revoked_while_waiting_has_left_and_cannot_be_admitted(self, department, agent, client) -> None:
        appointment = soon(department)
        started(appointment, agent.user)
        guest = participant_invite_guest(appointment=appointment, display_name="Sam", actor=agent.user)
        guest_joins(guest)
        participant_revoke(participant=fresh(guest), actor=agent.user)
        revoked = fresh(guest)
        assert revoked.left_at == revoked.revoked_at is not None
        assert events_of(appointment, "participant.left")[-1]["participant"]["id"] == str(guest.pk)
        with pytest.raises(ValidationError) as refused:
            participant_admit(participant=revoked, actor=agent.user)
        assert refused.value.message_dict == {"participant": ["The link of Sam was revoked."]}
        assert fresh(guest).admitted_at is None
        assert client.get(f"/join/{guest.token}/status").status_code == 404  # the page's poll learns it
        assert not events_of(appointment, "participant.admitted")

    def test_admitting_is_refused_for_the_claimant_someone_not_waiting_and_an_ended_appointment(
        self, department, agent
    ) -> None:
        appointment = soon(department)
        claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
        guest = participant_invite_guest(appointment=appointment, display_name="Sam", actor=agent.user)
        with pytest.raises(ValidationError, match="starting the session"):
            participant_admit(participant=claimant, actor=agent.user)
        with pytest.raises(ValidationError, match="Sam is not in the waiting room"):
            participant_admit(participant=fresh(guest), actor=agent.user)
        browser = guest_joins(guest)
        participant_leave(participant=fresh(guest))
        with pytest.raises(ValidationError, match="Sam is not in the waiting room"):
            participant_admit(participant=fresh(guest), actor=agent.user)
        participant_join(participant=fresh(guest), browser=browser)
        appointment_update(appointment=appointment, data={"status": Status.CANCELLED}, actor=agent.user)
        with pytest.raises(ValidationError, match="The appointment is cancelled"):
            participant_admit(participant=fresh(guest), actor=agent.user)
        assert fresh(guest).admitted_at is None
        assert fresh(claimant).admitted_at is None
        assert not events_of(appointment, "participant.admitted")

    def test_admitting_again_changes_nothing(self, department, agent) -> None:
        appointment = soon(department)
        guest = participant_invite_guest(appointment=appointment, display_name="Sam", actor=agent.user)
        guest_joins(guest)
        first = participant_admit(participant=fresh(guest), actor=agent.user).admitted_at
        rows = fresh(guest).history.count()
        assert participant_admit(participant=fresh(guest), actor=agent.user).admitted_at == first
        assert fresh(guest).history.count() == rows
        assert len(events_of(appointment, "participant.admitted")) == 1

    def test_a_guest_waiting_in_a_running_session_whose_page_closed_has_left(self, department, agent, settings) -> None:
        settings.WAITING_ABSENCE_SECONDS = 60
        appointment = soon(department)
        started(appointment, agent.user)
        guest = participant_invite_guest(appointment=appointment, display_name="Sam", actor=agent.user)
        guest_joins(guest)
        now = timezone.now()
        assert participants_release_absent(now=now + timedelta(seconds=59)) == []
        assert [p.pk for p in participants_release_absent(now=now + timedelta(seconds=61))] == [guest.pk]
        assert fresh(guest).left_at is not None
        assert Appointment.objects.get(pk=appointment.pk).status == Status.IN_PROGRESS


class TestRecordingConsent:
    def test_a_guests_no_is_shown_to_the_agent_and_not_applied_to_everyone(self, department, agent) -> None:
        appointment = soon(department, features_call_recording_enable=True)
        desk = logged_in(staff("desk", department))
        claimant_joins(appointment)  # says yes
        started(appointment, agent.user)
        guest = participant_invite_guest(appointment=appointment, display_name="Sam Solicitor", actor=agent.user)
        guest_joins(guest, consent=False)
        assert recording_allowed(appointment, Participant.objects.filter(appointment=appointment)) is True

        room = desk.get("/admin/appointments/appointment/waiting-room/").content.decode()
        assert "Admit (said no to recording)" in room
        answer = desk.post(
            f"/admin/appointments/appointment/{appointment.pk}/participants/{guest.pk}/admit/",
            {"from": "waiting-room"},
            follow=True,
        )
        assert answer.redirect_chain == [("/admin/appointments/appointment/waiting-room/", 302)]
        assert "Sam Solicitor (guest) is admitted. They said no to the recording" in answer.content.decode()
        meeting = desk.get(f"/admin/appointments/appointment/{appointment.pk}/meeting/").content.decode()
        assert "Said no to the recording: Sam Solicitor." in meeting
        assert "this call is not recorded" not in meeting
        change = desk.get(f"/admin/appointments/appointment/{appointment.pk}/change/").content.decode()
        assert "Said no to the recording: Sam Solicitor." in change
        appointment.refresh_from_db()
        assert appointment.features_call_recording_enable is True

    def test_the_claimants_no_still_turns_recording_off(self, department) -> None:
        appointment = soon(department, features_call_recording_enable=True)
        claimant = Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)
        participant_record_consent(participant=claimant, consent=False)
        assert recording_allowed(appointment, Participant.objects.filter(appointment=appointment)) is False


def test_the_waiting_room_lists_waiting_guests_with_their_role_first_and_admits_them(department, agent) -> None:
    desk = logged_in(staff("desk", department))
    later = make_appointment(department, appointment_at=timezone.now() + timedelta(minutes=20))
    appointment = soon(department, is_interpreter_needed=True, interpreter_language="Welsh")
    appointment = Appointment.objects.get(pk=appointment.pk)
    appointment_update(
        appointment=appointment, data={"appointment_at": timezone.now() + timedelta(minutes=25)}, actor=agent.user
    )
    started(appointment, agent.user)
    guest = participant_invite_guest(appointment=appointment, display_name="Sam Solicitor", actor=agent.user)
    guest_joins(guest)
    interpreter = Participant.objects.get(appointment=appointment, role=Role.INTERPRETER)

    page = desk.get("/admin/appointments/appointment/waiting-room/")
    assert [row["appointment"].pk for row in page.context["rows"]] == [appointment.pk, later.pk]  # waiting first
    html = page.content.decode()
    assert "Guest <strong>Sam Solicitor</strong>:" in html
    assert "<strong>waiting to be let in</strong>" in html
    assert f"/participants/{guest.pk}/admit/" in html
    assert f"/participants/{interpreter.pk}/admit/" not in html  # not in the waiting room

    desk.post(
        f"/admin/appointments/appointment/{appointment.pk}/participants/{guest.pk}/admit/", {"from": "waiting-room"}
    )
    assert getattr(fresh(guest).admitted_by, "username", None) == "desk"
    html = desk.get("/admin/appointments/appointment/waiting-room/").content.decode()
    assert "admit/" not in html
    assert "admitted, " in html


def test_the_agents_meeting_page_lists_who_waits_and_admits_without_leaving_the_call(department, agent) -> None:
    desk = logged_in(staff("desk", department))
    appointment = soon(department, features_call_recording_enable=True)
    started(appointment, agent.user)
    guest = participant_invite_guest(appointment=appointment, display_name="Sam Solicitor", actor=agent.user)
    waiting_url = f"/admin/appointments/appointment/{appointment.pk}/meeting/waiting/"
    assert desk.get(waiting_url).json() == {"waiting": []}
    guest_joins(guest, consent=False)
    admit = f"/admin/appointments/appointment/{appointment.pk}/participants/{guest.pk}/admit/"
    answer = desk.get(waiting_url)
    assert "no-store" in answer["Cache-Control"]
    assert answer.json() == {
        "waiting": [{"name": "Sam Solicitor", "role": "guest", "declined_recording": True, "admit_url": admit}]
    }
    admitted = desk.post(admit, {"from": "meeting"})
    assert admitted.status_code == 200
    assert admitted.json()["message"].startswith("Sam Solicitor (guest) is admitted. They said no to the recording")
    assert fresh(guest).admitted_by is not None
    assert desk.get(waiting_url).json() == {"waiting": []}
    participant_revoke(participant=fresh(guest), actor=agent.user)
    refused = desk.post(admit, {"from": "meeting"})
    assert (refused.status_code, refused.json()) == (422, {"message": "The link of Sam Solicitor was revoked."})
    outsider = logged_in(staff("outsider", DepartmentFactory.create(name="Other")))
    assert outsider.get(waiting_url).status_code == 404


def test_the_back_office_admits_only_within_the_staff_members_departments(department, other_department) -> None:
    appointment = soon(department)
    guest = participant_invite_guest(appointment=appointment, display_name="Sam", actor=None)
    guest_joins(guest)
    outsider = logged_in(staff("outsider", other_department))
    url = f"/admin/appointments/appointment/{appointment.pk}/participants/{guest.pk}/admit/"
    assert outsider.post(url).status_code == 404
    assert logged_in(staff("desk", department)).get(url).status_code == 405
    assert fresh(guest).admitted_at is None


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_twenty_admits_at_once_admit_once(department, agent) -> None:
    """The agent's Admit clicked again and again, by two agents, and over the API, all at the same instant."""
    appointment = soon(department)
    started(appointment, agent.user)
    guest = participant_invite_guest(appointment=appointment, display_name="Sam", actor=agent.user)
    guest_joins(guest)
    url = f"/api/v1/appointments/{appointment.pk}/participants/{guest.pk}/admit"
    answers = run_together([lambda: agent.client().post(url).status_code for _ in range(20)])
    assert answers == [200] * 20
    stored = fresh(guest)
    assert stored.admitted_by == agent.user
    assert stored.history.filter(admitted_at__isnull=False).count() == 1
    assert len(events_of(appointment, "participant.admitted")) == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_admit_racing_a_revoke_never_lets_a_revoked_link_in(department, agent) -> None:
    for _round in range(5):
        appointment = soon(department)
        started(appointment, agent.user)
        guest = participant_invite_guest(appointment=appointment, display_name="Sam", actor=agent.user)
        guest_joins(guest)

        def admit(guest: Participant = guest) -> str:
            try:
                participant_admit(participant=fresh(guest), actor=agent.user)
            except ValidationError:
                return "refused"
            return "admitted"

        def revoke(guest: Participant = guest) -> Participant:
            return participant_revoke(participant=fresh(guest), actor=agent.user)

        run_together([admit, revoke])
        stored = fresh(guest)
        assert stored.revoked_at is not None
        assert stored.left_at == stored.revoked_at
        assert stored.admitted_at is None or stored.admitted_at <= stored.revoked_at
