"""Participants and their journey: links per role, the join window's edges, what each state shows, identity
checks and their lock, consent, the waiting room (in, out, absent), admission and guests."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from appointments.models import Appointment, Status
from appointments.services import appointment_update
from meetings.browsers import Browser
from meetings.devices import device_states, participant_record_device_check
from meetings.identity import IdentityOutcome, participant_check_identity, participant_unlock_identity
from meetings.models import Participant, ParticipantBrowser, Role
from meetings.participants_panel import readiness
from meetings.services import (
    JourneyError,
    PageState,
    checks_missing,
    join_window,
    page_state,
    participant_invite_guest,
    participant_record_consent,
    participant_revoke,
    recording_allowed,
)
from meetings.services.journey import participant_join, participant_leave, participants_release_absent
from tests.factories import a_browser, browser_that_passed, make_appointment
from tests.helpers import STATUS_PATHS, walk_to

DEVICE_OK = {"camera": True, "microphone": True, "downlink_kbps": 12000}


def soon(department, minutes: int = 10, **options) -> Appointment:
    claimant = options.pop(
        "claimant", {"name": "Ada Lovelace", "date_of_birth": date(1990, 5, 17), "data": {"Case number": "C-1"}}
    )
    when = timezone.now() + timedelta(minutes=minutes)
    return make_appointment(department, appointment_at=when, duration_in_minutes=30, claimant=claimant, **options)


def claimant_of(appointment: Appointment) -> Participant:
    return Participant.objects.select_related("appointment__claimant").get(appointment=appointment, role=Role.CLAIMANT)


def ready(participant: Participant) -> tuple[Participant, Browser]:
    """Every check passed, in the browser returned (the one that passed the identity check, when there is one)."""
    participant_record_device_check(participant=participant, results=DEVICE_OK)
    browser = a_browser()
    if participant.role == Role.CLAIMANT and participant.appointment.claimant.date_of_birth:
        browser = browser_that_passed(participant)
    if participant.appointment.features_call_recording_enable:
        participant_record_consent(participant=participant, consent=True)
    return Participant.objects.select_related("appointment__claimant").get(pk=participant.pk), browser


def joined(participant: Participant) -> Participant:
    person, browser = ready(participant)
    return participant_join(participant=person, browser=browser)


class TestLinks:
    def test_every_appointment_starts_with_agent_and_claimant_on_its_own_url(self, appointment) -> None:
        people = {p.role: p for p in Participant.objects.filter(appointment=appointment)}
        assert set(people) == {Role.AGENT, Role.CLAIMANT}
        assert people[Role.CLAIMANT].token == appointment.public_token
        assert appointment.url.endswith(f"/join/{people[Role.CLAIMANT].token}")

    def test_links_are_long_random_and_distinct(self, department) -> None:
        first = make_appointment(department, is_interpreter_needed=True, interpreter_language="Welsh")
        second = make_appointment(department)
        tokens = list(Participant.objects.exclude(role=Role.AGENT).values_list("token", flat=True))
        tokens += list(Participant.objects.filter(role=Role.AGENT).values_list("token", flat=True))
        assert len(set(tokens)) == len(tokens) == 5
        assert all(len(token) >= 32 for token in tokens)  # 24 random bytes: 192 bits
        assert first.pk != second.pk

    def test_the_interpreter_follows_the_appointment(self, department, agent) -> None:
        appointment = make_appointment(department, is_interpreter_needed=True, interpreter_language="Welsh")
        live = Participant.objects.filter(appointment=appointment, role=Role.INTERPRETER, revoked_at__isnull=True)
        assert live.get().display_name == "Interpreter (Welsh)"
        appointment_update(appointment=appointment, data={"interpreter_language": "Polish"}, actor=agent.user)
        assert live.get().display_name == "Interpreter (Polish)"
        appointment_update(appointment=appointment, data={"is_interpreter_needed": False}, actor=agent.user)
        assert not live.exists()
        assert Participant.objects.get(appointment=appointment, role=Role.INTERPRETER).revoked_at is not None
        appointment_update(
            appointment=appointment,
            data={"is_interpreter_needed": True, "interpreter_language": "Urdu"},
            actor=agent.user,
        )
        assert live.get().display_name == "Interpreter (Urdu)"

    def test_guests_are_invited_and_revoked(self, appointment, agent) -> None:
        guest = participant_invite_guest(appointment=appointment, display_name="  Sam Solicitor ", actor=agent.user)
        assert (guest.role, guest.display_name) == (Role.GUEST, "Sam Solicitor")
        participant_revoke(participant=guest, actor=agent.user)
        assert Participant.objects.get(pk=guest.pk).revoked_at is not None
        with pytest.raises(ValidationError):
            participant_invite_guest(appointment=appointment, display_name="  ", actor=agent.user)


class TestWindowAndState:
    def test_the_window_opens_before_and_closes_after_with_its_edges(self, department, settings) -> None:
        settings.JOIN_OPENS_MINUTES_BEFORE = 30
        settings.JOIN_GRACE_MINUTES = 15
        appointment = soon(department, minutes=120)
        person = claimant_of(appointment)
        window = join_window(appointment)
        assert window.opens_at == appointment.appointment_at - timedelta(minutes=30)
        assert window.closes_at == appointment.ends_at + timedelta(minutes=15)
        second = timedelta(seconds=1)
        assert page_state(person, window.opens_at - second) == PageState.EARLY
        assert page_state(person, window.opens_at) == PageState.CHECKS
        assert page_state(person, window.closes_at) == PageState.CHECKS
        assert page_state(person, window.closes_at + second) == PageState.CLOSED

    def test_a_reschedule_moves_the_window(self, department, agent) -> None:
        appointment = soon(department, minutes=20)
        person = claimant_of(appointment)
        assert page_state(person, timezone.now()) == PageState.CHECKS
        appointment_update(
            appointment=appointment, data={"appointment_at": timezone.now() + timedelta(days=2)}, actor=agent.user
        )
        assert page_state(claimant_of(appointment), timezone.now()) == PageState.EARLY

    @pytest.mark.parametrize(
        ("path", "state"),
        [
            ([Status.CANCELLED], PageState.UNAVAILABLE),
            ([Status.NO_SHOW], PageState.UNAVAILABLE),
            ([Status.IN_PROGRESS, Status.COMPLETED], PageState.COMPLETED),
        ],
    )
    def test_final_states(self, department, agent, path, state) -> None:
        appointment = soon(department)
        assert STATUS_PATHS[path[-1]] == path
        walk_to(appointment, path[-1], agent.user)  # each step at a moment the status rules allow
        assert page_state(claimant_of(appointment), timezone.now()) == state


class TestChecks:
    def test_checks_in_order_device_identity_consent(self, department) -> None:
        person = claimant_of(soon(department, features_call_recording_enable=True))
        assert checks_missing(person) == ["device", "identity", "consent"]
        assert checks_missing(ready(person)[0]) == []

    def test_no_identity_check_without_a_date_of_birth_and_no_consent_without_recording(self, department) -> None:
        person = claimant_of(soon(department, claimant={"name": "B", "data": {"Case number": "1"}}))
        assert checks_missing(person) == ["device"]

    def test_device_check_results_are_validated_and_kept(self, department) -> None:
        person = claimant_of(soon(department))
        with pytest.raises(ValidationError) as caught:
            participant_record_device_check(participant=person, results={"camera": "yes", "downlink_kbps": -1})
        assert set(caught.value.message_dict) == {"camera", "microphone", "downlink_kbps"}
        assert Participant.objects.get(pk=person.pk).device_checked_at is None
        participant_record_device_check(participant=person, results={"camera": False, "microphone": True})
        stored = Participant.objects.get(pk=person.pk)
        assert stored.device_check == {"camera": False, "microphone": True, "downlink_kbps": None}

    @pytest.mark.parametrize(
        "results",
        [
            {"camera": True, "microphone": True, "camera_problem": "blocked"},  # a problem with a working camera
            {"camera": False, "microphone": True, "camera_problem": "broken"},
            {"camera": False, "microphone": False, "microphone_problem": 1},
        ],
    )
    def test_a_device_problem_is_one_of_three_and_only_for_a_device_that_failed(self, department, results) -> None:
        person = claimant_of(soon(department))
        with pytest.raises(ValidationError) as caught:
            participant_record_device_check(participant=person, results=results)
        assert set(caught.value.message_dict) == {name for name in results if name.endswith("_problem")}
        assert Participant.objects.get(pk=person.pk).device_checked_at is None

    def test_why_a_device_failed_is_kept_for_the_page_and_the_agent(self, department) -> None:
        person = claimant_of(soon(department))
        results = {"camera": False, "microphone": False, "camera_problem": "blocked", "microphone_problem": "missing"}
        participant_record_device_check(participant=person, results={**results, "downlink_kbps": 800})
        stored = Participant.objects.get(pk=person.pk)
        assert stored.device_check == {**results, "downlink_kbps": 800}
        assert device_states(stored) == {"camera": "blocked", "microphone": "missing"}
        assert readiness(stored).startswith(
            "camera blocked by the browser, microphone not found, slow connection (audio only advised)"
        )
        assert "kbit/s" not in readiness(stored)

    def test_wrong_answers_lock_a_browser_out_after_five_and_the_link_after_the_links_limit_until_staff_unlock(
        self, department, agent, settings
    ) -> None:
        settings.IDENTITY_MAX_FAILURES = 5
        settings.IDENTITY_LINK_MAX_FAILURES = 12
        person = claimant_of(soon(department))
        now = timezone.now()
        right, wrong = date(1990, 5, 17), date(2000, 1, 1)

        def check(browser: Browser, born: date) -> tuple[IdentityOutcome, int]:
            answer = participant_check_identity(participant=person, browser=browser, date_of_birth=born)
            return answer.outcome, answer.tries_left

        forwarded, other, third = a_browser(), a_browser(), a_browser()
        assert [check(forwarded, wrong) for _ in range(5)] == [
            *[(IdentityOutcome.WRONG, left) for left in (4, 3, 2, 1)],
            (IdentityOutcome.BROWSER_LOCKED, 0),
        ]
        assert check(forwarded, right) == (IdentityOutcome.BROWSER_LOCKED, 0)  # even the right answer
        person.refresh_from_db()
        assert (person.identity_failures, person.identity_locked_at) == (5, None)
        assert page_state(person, now, Browser(forwarded.digest, locked_out=True)) == PageState.LOCKED
        assert page_state(person, now, a_browser()) == PageState.CHECKS  # the claimant's own browser may still try
        # A new browser each time (cookies cleared) guesses on only until the link's own limit.
        assert [check(other, wrong) for _ in range(5)][-1] == (IdentityOutcome.BROWSER_LOCKED, 0)
        assert check(third, wrong) == (IdentityOutcome.WRONG, 1)  # the link's tries, fewer than the browser's
        assert check(third, wrong) == (IdentityOutcome.LOCKED, 0)
        assert check(a_browser(), right) == (IdentityOutcome.LOCKED, 0)
        person.refresh_from_db()
        assert person.identity_failures == 12
        assert person.identity_locked_at is not None
        assert page_state(person, now) == PageState.LOCKED
        assert ParticipantBrowser.objects.filter(participant=person, identity_locked_at__isnull=False).count() == 2

        participant_unlock_identity(participant=person, actor=agent.user)
        person.refresh_from_db()
        assert (person.identity_failures, person.identity_locked_at) == (0, None)
        assert not ParticipantBrowser.objects.filter(participant=person).exists()
        assert check(forwarded, right)[0] == IdentityOutcome.PASSED

    def test_a_no_to_recording_turns_it_off_for_the_call(self, department) -> None:
        appointment = soon(department, features_call_recording_enable=True)
        person = claimant_of(appointment)
        participant_record_consent(participant=person, consent=False)
        participant_record_consent(participant=person, consent=True)  # the first answer stands
        assert Participant.objects.get(pk=person.pk).recording_consent is False
        assert recording_allowed(appointment, Participant.objects.filter(appointment=appointment)) is False
        appointment.refresh_from_db()
        assert appointment.features_call_recording_enable is True  # the organisation's setting is not rewritten


class TestWaitingRoom:
    def test_joining_needs_the_checks(self, department) -> None:
        person = claimant_of(soon(department))
        with pytest.raises(JourneyError):
            participant_join(participant=person, browser=a_browser())
        assert Appointment.objects.get(pk=person.appointment_id).status == Status.SCHEDULED

    def test_the_claimant_joins_through_the_appointment_service_as_the_actor(self, department) -> None:
        person = joined(claimant_of(soon(department)))
        appointment = Appointment.objects.get(pk=person.appointment_id)
        assert appointment.status == Status.WAITING
        latest = appointment.history.latest()
        assert latest.history_user is None
        assert latest.history_change_reason == "the claimant (own link)"
        assert page_state(claimant_of(appointment), timezone.now()) == PageState.WAITING

    def test_the_agent_starting_admits_who_waits(self, department, agent) -> None:
        person = joined(claimant_of(soon(department)))
        appointment = Appointment.objects.get(pk=person.appointment_id)
        appointment_update(appointment=appointment, data={"status": Status.IN_PROGRESS}, actor=agent.user)
        admitted = claimant_of(appointment)
        assert admitted.admitted_at == Appointment.objects.get(pk=appointment.pk).session_started_at
        assert page_state(admitted, timezone.now()) == PageState.MEETING

    def test_arriving_after_the_start_goes_straight_in(self, department, agent) -> None:
        appointment = soon(department)
        appointment_update(appointment=appointment, data={"status": Status.IN_PROGRESS}, actor=agent.user)
        person = joined(claimant_of(appointment))
        assert person.admitted_at is not None
        assert page_state(claimant_of(appointment), timezone.now()) == PageState.MEETING

    def test_leaving_takes_the_appointment_back_to_scheduled(self, department) -> None:
        person = joined(claimant_of(soon(department)))
        participant_leave(participant=person)
        assert Appointment.objects.get(pk=person.appointment_id).status == Status.SCHEDULED
        assert claimant_of(person.appointment).left_at is not None

    def test_a_claimant_whose_page_stops_polling_leaves_after_the_absence_limit(self, department, settings) -> None:
        settings.WAITING_ABSENCE_SECONDS = 60
        person = joined(claimant_of(soon(department)))
        now = timezone.now()
        assert participants_release_absent(now=now + timedelta(seconds=59)) == []
        released = participants_release_absent(now=now + timedelta(seconds=61))
        assert [p.pk for p in released] == [person.pk]
        assert Appointment.objects.get(pk=person.appointment_id).status == Status.SCHEDULED


def test_the_release_command_lets_absent_claimants_go(department, settings) -> None:
    from tests.helpers import run_command

    settings.WAITING_ABSENCE_SECONDS = 60
    person = joined(claimant_of(soon(department)))
    Participant.objects.filter(pk=person.pk).update(last_seen_at=timezone.now() - timedelta(seconds=120))
    lines = run_command("release_absent_claimants")
    assert lines == [
        f"{person.appointment_id} claimant: left the waiting room",
        "Released 1 participant(s) absent for more than 60 s.",
    ]
    assert Appointment.objects.get(pk=person.appointment_id).status == Status.SCHEDULED


def test_a_cancel_makes_every_link_refuse_to_join(department, agent, client) -> None:
    appointment = soon(department, is_interpreter_needed=True, interpreter_language="Welsh")
    guest = participant_invite_guest(appointment=appointment, display_name="Sam", actor=agent.user)
    people = list(Participant.objects.filter(appointment=appointment).exclude(role=Role.AGENT))
    people = [ready(p)[0] for p in people]
    appointment_update(appointment=appointment, data={"status": Status.CANCELLED}, actor=agent.user)
    for person in people:
        fresh = Participant.objects.select_related("appointment__claimant").get(pk=person.pk)
        with pytest.raises(JourneyError):
            participant_join(participant=fresh, browser=a_browser())
        html = client.get(f"/join/{fresh.token}").content.decode()
        assert "was cancelled" in html
        assert "meeting-options" not in html
    assert {p.role for p in people} == {Role.CLAIMANT, Role.INTERPRETER, Role.GUEST}
    assert guest.pk in {p.pk for p in people}
