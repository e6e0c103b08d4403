"""The claimant's and participants' public pages: only this appointment, nothing personal before the identity
check, the same plain 404 for any bad link, no caching, no referrer, CSRF on every POST, a limit per address,
a status poll of at most two queries that answers 304 while nothing changed, and clear 4xx for bad input."""

import html
import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar

from appointments.models import Appointment, Department, Status
from appointments.services import appointment_update
from config.local_time import local_words
from meetings.models import Participant, Role
from meetings.services import participant_invite_guest, participant_revoke
from tests.factories import make_appointment
from tests.helpers import rewrite, walk_to


def soon(department, **options) -> Appointment:
    claimant = {"name": "Ada Lovelace", "date_of_birth": date(1990, 5, 17), "data": {"Case number": "C-1"}}
    when = timezone.now() + timedelta(minutes=10)
    return make_appointment(department, appointment_at=when, duration_in_minutes=30, claimant=claimant, **options)


def page_url(appointment: Appointment, step: str = "") -> str:
    return f"/join/{appointment.public_token}{step}"


def post(client: Client, url: str, body: Any) -> Any:
    """Post a step as the page does: from a browser that opened the page first (its cookie for the link)."""
    if "join_browser" not in client.cookies:
        client.get(url.rsplit("/", 1)[0])
    return client.post(url, json.dumps(body), content_type="application/json")


def claimant(appointment: Appointment) -> Participant:
    return Participant.objects.get(appointment=appointment, role=Role.CLAIMANT)


class TestLinks:
    def test_unknown_malformed_and_revoked_links_get_the_same_plain_404(self, client, appointment, agent) -> None:
        guest = participant_invite_guest(appointment=appointment, display_name="Sam", actor=agent.user)
        participant_revoke(participant=guest, actor=agent.user)
        bodies = set()
        for token in ("x" * 32, "not a token", "%00", guest.token, "a" * 65):
            response = client.get(f"/join/{token}")
            assert response.status_code == 404
            bodies.add(response.content)
        assert len(bodies) == 1
        assert b"Claims" not in next(iter(bodies))

    def test_pages_are_not_cached_indexed_or_referred_and_allow_only_the_video_origin(
        self, client, appointment, settings
    ) -> None:
        settings.VIDEO_BASE_URL = "https://video.example.org"
        for url in (page_url(appointment), page_url(appointment, "/status"), "/join/" + "y" * 32):
            response = client.get(url)
            assert response["Cache-Control"] == "no-store"
            assert response["Referrer-Policy"] == "no-referrer"
            assert response["X-Robots-Tag"] == "noindex, nofollow"
        policy = client.get(page_url(appointment))["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self' https://video.example.org"
        assert directives["frame-src"] == "https://video.example.org"
        assert "unsafe-inline" not in policy

    def test_a_link_checker_asking_head_gets_the_pages_headers_and_nothing_is_written(
        self, client, appointment
    ) -> None:
        """Mail clients and chats check a link with HEAD before showing it; it was 405, which some call broken."""
        from claimants.models import Claimant
        from ledger.models import Entry

        entries = Entry.objects.count()
        chosen = Claimant.objects.filter(appointment=appointment).values_list("preferred_language", flat=True)
        language = chosen.get()
        head = Client().head(page_url(appointment) + "?lang=cy")
        get = client.get(page_url(appointment))
        assert head.status_code == 200
        assert head.content == b""
        for header in ("Content-Type", "Cache-Control", "Content-Security-Policy", "X-Robots-Tag"):
            assert head[header] == get[header], header
        assert Client().head("/join/" + "x" * 32).status_code == 404
        assert Entry.objects.count() == entries
        assert chosen.get() == language  # ?lang=cy from a browser that is not the claimant's records nothing
        assert Client().post(page_url(appointment)).status_code == 405  # the page itself takes no post

    def test_a_page_shows_only_its_own_appointment(self, client, department) -> None:
        mine = soon(department)
        other = make_appointment(department, claimant={"name": "Grace Hopper", "data": {"Case number": "X"}})
        html = client.get(page_url(mine)).content.decode()
        assert other.reference not in html
        assert "Grace Hopper" not in html
        assert other.public_token not in html


class TestWhatEachStateShows:
    def test_before_the_window_the_time_a_calendar_file_and_the_device_check(self, client, appointment) -> None:
        html = client.get(page_url(appointment)).content.decode()
        assert "Claims" in html
        # In the department's zone, in words, written by the server (issue 22.1): not the browser's locale.
        assert local_words(appointment.appointment_at, appointment.zone, "en") in html
        assert "Add to calendar" in html
        assert 'id="device-check"' in html
        assert "date_of_birth" not in html  # the identity check opens with the window

    def test_nothing_personal_before_the_identity_check(self, client, department) -> None:
        appointment = soon(department)
        html = client.get(page_url(appointment)).content.decode()
        assert "Ada" not in html
        assert 'id="identity-form"' in html
        response = post(client, page_url(appointment, "/identity"), {"date_of_birth": "1990-05-17"})
        assert response.status_code == 200
        assert "Hello Ada Lovelace" in client.get(page_url(appointment)).content.decode()

    @pytest.mark.parametrize(
        ("status", "text"), [(Status.CANCELLED, "was cancelled"), (Status.NO_SHOW, "did not take place")]
    )
    def test_cancelled_and_no_show_say_so_and_nothing_else(self, client, appointment, agent, status, text) -> None:
        walk_to(appointment, status, agent.user)  # a no-show once the grace has passed (issue 17.5)
        html = client.get(page_url(appointment)).content.decode()
        assert text in html
        assert "device-check" not in html
        assert "Add to calendar" not in html
        assert client.get(page_url(appointment, "/calendar.ics")).status_code == 404

    def test_completed_thanks_or_sends_the_claimant_to_the_custom_redirect(self, client, appointment, agent) -> None:
        walk_to(appointment, Status.COMPLETED, agent.user)  # started inside the join window
        assert "Thank you" in client.get(page_url(appointment)).content.decode()
        rewrite(
            Appointment.objects.filter(pk=appointment.pk),
            use_custom_post_call_redirect=True,
            custom_user_post_call_redirect_url="https://example.com/after",
        )
        response = client.get(page_url(appointment))
        assert (response.status_code, response["Location"]) == (302, "https://example.com/after")

    def test_the_calendar_file_has_the_appointments_times(self, client, appointment) -> None:
        response = client.get(page_url(appointment, "/calendar.ics"))
        assert response["Content-Type"].startswith("text/calendar")
        event = Calendar.from_ical(response.content).walk("VEVENT")[0]
        assert event.decoded("dtstart") == appointment.appointment_at
        assert event.decoded("dtend") == appointment.ends_at
        assert str(event.get("uid")) == f"appointment-{appointment.pk}@127.0.0.1"


class TestStatusPoll:
    def test_304_while_nothing_changes_and_a_new_etag_when_the_agent_starts(self, client, department, agent) -> None:
        appointment = soon(department)
        first = client.get(page_url(appointment, "/status"))
        assert first.json()["state"] == "checks"
        same = client.get(page_url(appointment, "/status"), HTTP_IF_NONE_MATCH=first["ETag"])
        assert same.status_code == 304
        assert same.content == b""
        appointment_update(appointment=appointment, data={"status": Status.IN_PROGRESS}, actor=agent.user)
        changed = client.get(page_url(appointment, "/status"), HTTP_IF_NONE_MATCH=first["ETag"])
        assert changed.status_code == 200
        assert changed.json()["status"] == "in_progress"

    def test_at_most_two_queries_a_poll_and_the_poll_is_the_heartbeat(self, client, department) -> None:
        appointment = soon(department)
        client.get(page_url(appointment, "/status"))  # fills nothing; polls stay one read
        with CaptureQueriesContext(connection) as reads:
            client.get(page_url(appointment, "/status"))
        assert len(reads) == 1
        person = claimant(appointment)
        rewrite(
            Participant.objects.filter(pk=person.pk),
            joined_waiting_at=timezone.now(),
            last_seen_at=timezone.now() - timedelta(seconds=30),
        )
        rewrite(Appointment.objects.filter(pk=appointment.pk), status=Status.WAITING)
        with CaptureQueriesContext(connection) as heartbeat:
            client.get(page_url(appointment, "/status"))
        assert len(heartbeat) == 2
        seen = claimant(appointment).last_seen_at
        assert seen is not None
        assert timezone.now() - seen < timedelta(seconds=5)


class TestSteps:
    def test_every_post_needs_the_csrf_token(self, department) -> None:
        appointment = soon(department)
        strict = Client(enforce_csrf_checks=True)
        for step, body in (("/device-check", {"camera": True, "microphone": True}), ("/join", {})):
            assert post(strict, page_url(appointment, step), body).status_code == 403
        assert claimant(appointment).device_checked_at is None

    @pytest.mark.parametrize(
        "body",
        [b"not json", b"[1, 2]", json.dumps({"camera": "yes", "microphone": True}).encode(), b"{" * 3000],
    )
    def test_bad_device_check_input_is_a_clear_4xx_and_changes_nothing(self, client, department, body) -> None:
        appointment = soon(department)
        response = client.post(page_url(appointment, "/device-check"), body, content_type="application/json")
        assert response.status_code in (400, 422)
        assert response.json()["message"]
        assert claimant(appointment).device_checked_at is None

    def test_wrong_dates_of_birth_say_how_many_tries_are_left_then_lock(self, client, department, settings) -> None:
        settings.IDENTITY_MAX_FAILURES = 5
        appointment = soon(department)
        for left in (4, 3, 2, 1):
            response = post(client, page_url(appointment, "/identity"), {"date_of_birth": "2001-01-01"})
            assert response.status_code == 422
            assert response.json()["tries_left"] == left
        assert post(client, page_url(appointment, "/identity"), {"date_of_birth": "2001-01-01"}).status_code == 423
        assert "This link is locked" in client.get(page_url(appointment)).content.decode()

    @pytest.mark.parametrize(
        ("language", "here", "everywhere"),
        [
            (
                "en",
                "too many times in this browser. Please contact Claims to unlock it: how is below.",
                "too many times. Please contact Claims to unlock it: how is below.",
            ),
            (
                "cy",
                "ormod o weithiau yn y porwr hwn. Cysylltwch â Tîm Hawliadau i'w datgloi: mae'r manylion isod.",
                "ormod o weithiau. Cysylltwch â Tîm Hawliadau i'w datgloi: mae'r manylion isod.",
            ),
        ],
    )
    def test_a_locked_page_names_the_department_to_contact_for_each_lock(
        self, department, settings, language: str, here: str, everywhere: str
    ) -> None:
        """The browser's lock, then the link's (a second browser's wrong answer): each page names the department in
        the page's language, the contact details below it (one sentence, the change page's too)."""
        settings.IDENTITY_MAX_FAILURES = 1
        settings.IDENTITY_LINK_MAX_FAILURES = 2
        rewrite(Department.objects.filter(pk=department.pk), name_cy="Tîm Hawliadau")
        appointment = soon(department)
        pages = []
        for _browser in range(2):
            client = Client()
            client.get(page_url(appointment), {"lang": language})
            assert post(client, page_url(appointment, "/identity"), {"date_of_birth": "2001-01-01"}).status_code == 423
            pages.append(html.unescape(client.get(page_url(appointment)).content.decode()))
        assert here in pages[0]
        assert everywhere in pages[1]
        assert here not in pages[1]
        for page in pages:
            assert page.index("ormod o weithiau" if language == "cy" else "too many times") < page.index(
                'id="contact-heading"'
            )
        assert post(client, page_url(appointment, "/identity"), {"date_of_birth": "1990-05-17"}).status_code == 423

    @pytest.mark.parametrize("value", ["17/05/1990", "1990-13-01", "", None, 19900517])
    def test_a_malformed_date_of_birth_is_a_422_and_counts_nothing(self, client, department, value) -> None:
        appointment = soon(department)
        response = post(client, page_url(appointment, "/identity"), {"date_of_birth": value})
        assert response.status_code == 422
        assert claimant(appointment).identity_failures == 0

    def test_the_whole_journey_over_http(self, client, department) -> None:
        appointment = soon(department, features_call_recording_enable=True)
        assert post(client, page_url(appointment, "/join"), {}).status_code == 409  # checks first
        steps = [
            ("/device-check", {"camera": True, "microphone": False, "downlink_kbps": 5400.4}),
            ("/identity", {"date_of_birth": "1990-05-17"}),
            ("/consent", {"consent": False}),
        ]
        for step, body in steps:
            assert post(client, page_url(appointment, step), body).status_code == 200, step
        response = post(client, page_url(appointment, "/join"), {})
        assert response.json() == {"state": "waiting"}
        assert Appointment.objects.get(pk=appointment.pk).status == Status.WAITING
        stored = claimant(appointment)
        assert stored.device_check == {"camera": True, "microphone": False, "downlink_kbps": 5400}
        assert stored.recording_consent is False
        assert post(client, page_url(appointment, "/leave"), {}).json() == {"state": "checks"}
        assert Appointment.objects.get(pk=appointment.pk).status == Status.SCHEDULED

    def test_the_speed_test_asset_has_a_fixed_size(self, client, appointment) -> None:
        response = client.get(page_url(appointment, "/speed-test"))
        assert len(response.content) == 256 * 1024
        assert response["Cache-Control"] == "no-store"


def test_lookups_are_limited_per_address(client, appointment, settings) -> None:
    settings.PUBLIC_PAGE_RATE_PER_MINUTE = 3
    codes = [client.get(page_url(appointment, "/status")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert other.get(page_url(appointment, "/status")).status_code == 200


CSP = "Content-Security-Policy"


def _shown(response: Any) -> tuple[int, bytes, dict[str, Any]]:
    """A response as a browser sees it, the request's id aside, the CSP's directives as a set (their order in the
    header is django-csp's, not a meaning)."""
    headers: dict[str, Any] = {name: value for name, value in response.headers.items() if name != "X-Request-ID"}
    if CSP in headers:
        headers[CSP] = {part.strip() for part in headers[CSP].split(";")}
    return response.status_code, response.content, headers


class TestLeanPoll:
    """The poll is answered before the session, user and message middleware (issue 26.5), with every header the
    whole stack gives it: the same answer byte for byte, header for header."""

    def test_the_lean_poll_answers_as_the_whole_stack(self, client, department, settings) -> None:
        appointment = soon(department)
        person = claimant(appointment)
        lean = settings.MIDDLEWARE
        whole = [name for name in lean if name != "config.middleware.LeanMiddleware"]
        assert len(whole) == len(lean) - 1
        answers: dict[str, list[Any]] = {"lean": [], "whole": []}
        for name, middleware in (("whole", whole), ("lean", lean)):
            settings.MIDDLEWARE = middleware
            browser = Client()
            first = browser.get(page_url(appointment, "/status"))
            answers[name] += [
                first,
                browser.get(page_url(appointment, "/status"), HTTP_IF_NONE_MATCH=first["ETag"]),
                browser.head(page_url(appointment, "/status")),
                browser.get("/join/" + "x" * 32 + "/status"),  # an unknown link: the plain 404
                browser.get(f"/join/{person.token}/status", HTTP_ACCEPT_LANGUAGE="cy"),
            ]
        assert [_shown(r) for r in answers["lean"]] == [_shown(r) for r in answers["whole"]]
        assert [r.status_code for r in answers["lean"]] == [200, 304, 405, 404, 200]  # HEAD: a GET-only view
        shown = answers["lean"][0]
        assert shown["Cache-Control"] == "no-store"
        assert shown["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in shown[CSP]
        assert "Cookie" in shown["Vary"]

    def test_the_lean_poll_keeps_the_host_check_and_the_rate_limit(self, client, department, settings) -> None:
        appointment = soon(department)
        assert client.get(page_url(appointment, "/status"), HTTP_HOST="evil.example").status_code == 400
        settings.PUBLIC_PAGE_RATE_PER_MINUTE = 2
        codes = [client.get(page_url(appointment, "/status")).status_code for _ in range(3)]
        assert codes == [200, 200, 429]

    def test_a_poll_runs_no_middleware_after_the_lean_one(self, client, department, monkeypatch) -> None:
        # What the poll no longer pays for: the session, CSRF, the user, the second factor, allauth, messages, the
        # single sign-on re-check, axes. (Their headers are given by LeanMiddleware, see above.)
        appointment = soon(department)
        ran: list[str] = []
        from django.contrib.sessions.middleware import SessionMiddleware

        original = SessionMiddleware.__call__

        def counted(self: Any, request: Any) -> Any:
            ran.append(request.path)
            return original(self, request)

        monkeypatch.setattr(SessionMiddleware, "__call__", counted)
        client.get(page_url(appointment, "/status"))
        client.get(page_url(appointment))  # the page itself still has the whole stack
        assert ran == [page_url(appointment)]
