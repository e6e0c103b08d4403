"""The claimant's identity check on their page, bound to the browser: the cookie it sets, a new browser asked
again, a second browser taking over, counting per browser and per link, the lock and its answer; under
concurrency on PostgreSQL with real threads (inside one test transaction they would pass either way)."""

import json
import logging
from datetime import date, timedelta
from typing import Any

import pytest
from django.http import HttpRequest
from django.test import Client
from django.utils import timezone

from appointments.models import Appointment, Status
from appointments.services import appointment_update
from meetings.browsers import browser_digest
from meetings.identity import participant_unlock_identity
from meetings.models import Participant, ParticipantBrowser, Role
from meetings.services import participant_invite_guest
from tests.factories import make_appointment
from tests.helpers import postgres_only, run_together

RIGHT = "1990-05-17"
WRONG = "2001-01-01"
COOKIE = "join_browser"
LINK_LOCKED = "This link is locked after too many attempts. Please contact the organisation."
BROWSER_LOCKED = "This link is locked in this browser after too many attempts. Please contact the organisation."


def soon(department: Any, **options: Any) -> Appointment:
    claimant = options.pop(
        "claimant", {"name": "Ada Lovelace", "date_of_birth": date(1990, 5, 17), "data": {"Case number": "C-1"}}
    )
    when = timezone.now() + timedelta(minutes=10)
    return make_appointment(department, appointment_at=when, duration_in_minutes=30, claimant=claimant, **options)


def opened(token: str, **client_options: Any) -> Client:
    """A browser of its own that opened the link (and so has its cookie for it)."""
    browser = Client(**client_options)
    assert browser.get(f"/join/{token}").status_code == 200
    return browser


def post(browser: Client, token: str, step: str, body: Any) -> Any:
    return browser.post(f"/join/{token}/{step}", json.dumps(body), content_type="application/json")


def guess(browser: Client, appointment: Appointment, born: str) -> Any:
    return post(browser, appointment.public_token, "identity", {"date_of_birth": born})


def ready_in(browser: Client, appointment: Appointment) -> None:
    """Device check and identity check passed in this browser."""
    token = appointment.public_token
    assert post(browser, token, "device-check", {"camera": True, "microphone": True}).status_code == 200
    assert guess(browser, appointment, RIGHT).status_code == 200


def state(browser: Client, token: str) -> str:
    return browser.get(f"/join/{token}/status").json()["state"]


def claimant(appointment: Appointment) -> Participant:
    return Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)


def seen(appointment: Appointment) -> Any:
    return claimant(appointment).last_seen_at


def cookie_key(browser: Client, token: str) -> str:
    """The key in the browser's cookie, read as the server reads it (signed with the link in its salt)."""
    request = HttpRequest()
    request.COOKIES[COOKIE] = browser.cookies[COOKIE].value
    key = request.get_signed_cookie(COOKIE, salt=token)
    assert key is not None
    return key


class TestTheCookie:
    def test_a_signed_httponly_lax_cookie_for_that_link_secure_under_https(self, department) -> None:
        appointment = soon(department)
        token = appointment.public_token
        browser = Client()
        morsel = browser.get(f"/join/{token}").cookies[COOKIE]
        assert morsel["httponly"] is True
        assert morsel["samesite"] == "Lax"
        assert morsel["path"] == f"/join/{token}"
        assert not morsel["secure"]
        assert int(morsel["max-age"]) > (appointment.ends_at - timezone.now()).total_seconds()
        assert Client().get(f"/join/{token}", secure=True).cookies[COOKIE]["secure"] is True
        key = cookie_key(browser, token)  # signed for this link: the signature checks with the link in its salt
        assert morsel.value != key

    def test_passing_gives_the_browser_a_new_key_whose_digest_alone_is_stored(self, department) -> None:
        appointment = soon(department)
        token = appointment.public_token
        browser = opened(token)
        planted = cookie_key(browser, token)
        assert guess(browser, appointment, RIGHT).status_code == 200
        held = cookie_key(browser, token)
        assert held != planted  # a key set in the browser beforehand holds nothing
        stored = claimant(appointment).browser_digest
        assert stored == browser_digest(held)
        assert held not in stored

    def test_a_cookie_without_its_link_or_forged_opens_nothing(self, department) -> None:
        mine, other = soon(department), soon(department)
        browser = opened(mine.public_token)
        ready_in(browser, mine)
        value = browser.cookies[COOKIE].value
        for forged in (value, "x" * 43, value.split(":")[0], value[:-2] + "xx"):
            stranger = Client()
            stranger.cookies[COOKIE] = forged
            for appointment in (other, mine) if forged != value else (other,):
                html = stranger.get(f"/join/{appointment.public_token}").content.decode()
                assert "Ada" not in html
                assert 'id="identity-form"' in html
        other_claimant = claimant(other)
        assert (other_claimant.browser_digest, other_claimant.joined_waiting_at) == (None, None)

    def test_a_step_posted_without_the_cookie_is_refused_and_changes_nothing(self, department) -> None:
        appointment = soon(department)
        for step, body in (("identity", {"date_of_birth": WRONG}), ("device-check", {"camera": True}), ("join", {})):
            response = post(Client(), appointment.public_token, step, body)
            assert response.status_code == 400
            assert "allow cookies" in response.json()["message"]
        person = claimant(appointment)
        assert (person.identity_failures, person.device_checked_at, person.browser_digest) == (0, None, None)


class TestTakingOver:
    def test_a_new_browser_is_asked_again_and_sees_nothing_personal(self, department) -> None:
        appointment = soon(department)
        token = appointment.public_token
        first = opened(token)
        ready_in(first, appointment)
        assert "Hello Ada Lovelace" in first.get(f"/join/{token}").content.decode()
        second = opened(token)
        html = second.get(f"/join/{token}").content.decode()
        assert "This appointment was opened elsewhere" in html
        assert 'id="identity-form"' in html
        assert "Ada" not in html
        assert state(second, token) == "elsewhere"
        assert post(second, token, "join", {}).status_code == 409
        assert Appointment.objects.get(pk=appointment.pk).status == Status.SCHEDULED

    def test_a_second_browser_that_passes_takes_over_and_the_first_is_told(self, department, agent) -> None:
        appointment = soon(department, features_call_recording_enable=True)
        token = appointment.public_token
        first = opened(token)
        ready_in(first, appointment)
        assert post(first, token, "consent", {"consent": True}).status_code == 200
        assert post(first, token, "join", {}).json() == {"state": "waiting"}
        second = opened(token)
        assert post(second, token, "consent", {"consent": False}).status_code == 409  # not for someone else
        assert guess(second, appointment, RIGHT).json() == {"state": "waiting"}  # straight into the waiting room
        assert state(first, token) == "elsewhere"
        assert "This appointment was opened elsewhere" in first.get(f"/join/{token}").content.decode()
        # The page the link was taken from changes nothing: its leave does not take the holder out.
        assert post(first, token, "leave", {}).json() == {"state": "elsewhere"}
        person = claimant(appointment)
        assert (person.left_at, person.recording_consent) == (None, True)
        assert Appointment.objects.get(pk=appointment.pk).status == Status.WAITING
        appointment_update(appointment=appointment, data={"status": Status.IN_PROGRESS}, actor=agent.user)
        assert "meeting-options" in second.get(f"/join/{token}").content.decode()
        assert "meeting-options" not in first.get(f"/join/{token}").content.decode()
        # The first browser may take it back the same way.
        assert guess(first, appointment, RIGHT).json() == {"state": "meeting"}
        assert state(second, token) == "elsewhere"

    def test_only_the_holders_poll_is_its_heartbeat(self, department) -> None:
        appointment = soon(department)
        token = appointment.public_token
        first = opened(token)
        ready_in(first, appointment)
        post(first, token, "join", {})
        Participant.objects.filter(appointment=appointment, role=Role.CLAIMANT).update(
            last_seen_at=timezone.now() - timedelta(seconds=30)
        )
        state(opened(token), token)
        assert timezone.now() - seen(appointment) >= timedelta(seconds=30)
        state(first, token)
        assert timezone.now() - seen(appointment) < timedelta(seconds=5)

    @pytest.mark.parametrize("role", ["guest", "interpreter", "claimant without a date of birth"])
    def test_a_link_without_an_identity_check_is_bound_by_joining(self, department, agent, role) -> None:
        no_birth = {"name": "Bo", "data": {"Case number": "C-2"}}
        if role == "claimant without a date of birth":
            appointment = soon(department, claimant=no_birth)
            token = appointment.public_token
        elif role == "guest":
            appointment = soon(department)
            token = participant_invite_guest(appointment=appointment, display_name="Sam", actor=agent.user).token
        else:
            appointment = soon(department, is_interpreter_needed=True, interpreter_language="Welsh")
            token = Participant.objects.get(appointment=appointment, role=Role.INTERPRETER).token
        first, second = opened(token), opened(token)
        assert post(first, token, "device-check", {"camera": True, "microphone": True}).status_code == 200
        assert state(second, token) == "checks"  # nobody holds it before joining
        assert post(first, token, "join", {}).json() == {"state": "waiting"}
        assert state(second, token) == "elsewhere"
        html = second.get(f"/join/{token}").content.decode()
        assert "Continue here" in html
        assert post(second, token, "join", {}).json() == {"state": "waiting"}
        assert state(first, token) == "elsewhere"
        assert Participant.objects.get(token=token).browser_digest == browser_digest(cookie_key(second, token))


class TestCounting:
    def test_someone_with_a_forwarded_link_cannot_lock_the_claimants_own_browser_out(self, department) -> None:
        appointment = soon(department)
        token = appointment.public_token
        forwarded, own = opened(token), opened(token)
        answers = [guess(forwarded, appointment, WRONG) for _ in range(5)]
        assert [a.status_code for a in answers] == [422, 422, 422, 422, 423]
        assert answers[-1].json()["message"] == BROWSER_LOCKED
        assert state(forwarded, token) == "locked"
        assert "This link is locked in this browser" in forwarded.get(f"/join/{token}").content.decode()
        assert guess(forwarded, appointment, RIGHT).status_code == 423
        assert guess(own, appointment, WRONG).json()["tries_left"] == 4
        assert guess(own, appointment, RIGHT).status_code == 200
        person = claimant(appointment)
        assert (person.identity_failures, person.identity_locked_at) == (6, None)
        assert person.browser_digest == browser_digest(cookie_key(own, token))

    def test_clearing_cookies_guesses_on_only_until_the_links_limit(self, department, settings) -> None:
        settings.IDENTITY_LINK_MAX_FAILURES = 20
        appointment = soon(department)
        codes = []
        for _ in range(4):  # four browsers, five wrong answers each
            browser = opened(appointment.public_token)
            codes += [guess(browser, appointment, WRONG).status_code for _ in range(5)]
        assert codes[-1] == 423
        fresh = opened(appointment.public_token)
        response = guess(fresh, appointment, RIGHT)
        assert (response.status_code, response.json()["message"]) == (423, LINK_LOCKED)
        assert "This link is locked" in fresh.get(f"/join/{appointment.public_token}").content.decode()
        person = claimant(appointment)
        assert person.identity_failures == 20
        assert person.identity_locked_at is not None

    def test_staff_unlock_clears_the_browser_and_the_link(self, department, agent, settings) -> None:
        settings.IDENTITY_LINK_MAX_FAILURES = 5
        appointment = soon(department)
        browser = opened(appointment.public_token)
        for _ in range(5):
            guess(browser, appointment, WRONG)
        assert state(browser, appointment.public_token) == "locked"
        participant_unlock_identity(participant=claimant(appointment), actor=agent.user)
        assert state(browser, appointment.public_token) == "checks"
        assert guess(browser, appointment, RIGHT).status_code == 200
        assert not ParticipantBrowser.objects.filter(participant__appointment=appointment).exists()


def test_a_right_date_of_birth_on_a_locked_link_gets_the_locked_answer(department, settings) -> None:
    settings.IDENTITY_MAX_FAILURES = settings.IDENTITY_LINK_MAX_FAILURES = 5
    appointment = soon(department)
    browser = opened(appointment.public_token)
    for _ in range(5):
        guess(browser, appointment, WRONG)
    for born in (RIGHT, WRONG):
        for someone in (browser, opened(appointment.public_token)):
            response = guess(someone, appointment, born)
            assert (response.status_code, response.json()["message"]) == (423, LINK_LOCKED)
    person = claimant(appointment)
    assert (person.identity_failures, person.identity_checked_at) == (5, None)


def test_nothing_typed_or_carried_reaches_a_log_line(department, caplog) -> None:
    appointment = soon(department)
    browser = opened(appointment.public_token)
    with caplog.at_level(logging.DEBUG):
        guess(browser, appointment, "1977-07-07")
        guess(browser, appointment, RIGHT)
        browser.get(f"/join/{appointment.public_token}/status")
    logged = "\n".join(record.getMessage() + repr(record.__dict__) for record in caplog.records)
    for secret in (
        "1977-07-07",
        "1990-05-17",
        browser.cookies[COOKIE].value,
        cookie_key(browser, appointment.public_token),
    ):
        assert secret not in logged


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_guesses_from_one_browser_each_answer_from_the_state_their_lock_wrote(
    department, settings
) -> None:
    settings.IDENTITY_MAX_FAILURES = 5
    settings.PUBLIC_PAGE_RATE_PER_MINUTE = 10_000
    appointment = soon(department)
    value = opened(appointment.public_token).cookies[COOKIE].value

    def one_guess() -> tuple[int, Any]:
        same_browser = Client()
        same_browser.cookies[COOKIE] = value
        response = guess(same_browser, appointment, WRONG)
        return response.status_code, response.json().get("tries_left")

    answers = run_together([one_guess] * 30)
    assert sorted(answer for answer in answers if answer[0] == 422) == [(422, 1), (422, 2), (422, 3), (422, 4)]
    assert [answer for answer in answers if answer[0] != 422] == [(423, None)] * 26
    person = claimant(appointment)
    assert (person.identity_failures, person.identity_locked_at) == (5, None)
    tries = ParticipantBrowser.objects.get(participant=person)
    assert tries.identity_failures == 5
    assert tries.identity_locked_at is not None


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_guesses_from_thirty_browsers_lock_the_link_at_its_limit(department, settings) -> None:
    settings.IDENTITY_MAX_FAILURES = 5
    settings.IDENTITY_LINK_MAX_FAILURES = 20
    settings.PUBLIC_PAGE_RATE_PER_MINUTE = 10_000
    appointment = soon(department)
    browsers = [opened(appointment.public_token) for _ in range(30)]

    def guesser(browser: Client) -> Any:
        def one_guess() -> tuple[int, Any]:
            response = guess(browser, appointment, WRONG)
            return response.status_code, response.json().get("tries_left")

        return one_guess

    answers = run_together([guesser(browser) for browser in browsers])
    # The link's 17th, 18th and 19th wrong answers leave it 3, 2 and 1; the 20th locks it; the rest find it locked.
    assert sorted(answer for answer in answers if answer[0] == 422) == [(422, 1), (422, 2), (422, 3)] + [(422, 4)] * 16
    assert [answer for answer in answers if answer[0] != 422] == [(423, None)] * 11
    person = claimant(appointment)
    assert person.identity_failures == 20
    assert person.identity_locked_at is not None
