"""Error pages in the claimant's language (issue 22.1): Django's 400, 403, 404 and 500 pages, and the public pages'
429, are the service's own, translated, with `lang` matching their text: Welsh for a Welsh claimant (their
preferred_language, known once their page started), for the switch's cookie and for a browser that asks for Welsh;
English otherwise. The back office and the API keep Django's and the API's own answers."""

from typing import Any

import pytest
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404, HttpRequest
from django.test import Client

import meetings.views
from appointments.models import Appointment
from meetings import error_pages
from tests.meetings.test_public_pages import page_url

pytestmark = pytest.mark.django_db


def broken(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("a bug in the page")


@pytest.fixture
def client() -> Client:
    return Client(raise_request_exception=False)


def test_a_welsh_claimants_page_that_fails_says_so_in_welsh(
    client: Client, appointment: Appointment, monkeypatch
) -> None:
    appointment.claimant.preferred_language = "cy"
    appointment.claimant.save(update_fields=["preferred_language"])
    monkeypatch.setattr(meetings.views, "page_state", broken)
    response = client.get(page_url(appointment))
    html = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="cy">' in html
    assert "Mae rhywbeth wedi mynd o'i le" in html
    assert "Something went wrong" not in html
    assert response["Content-Language"] == "cy"


def test_an_english_claimants_page_that_fails_says_so_in_english(client: Client, appointment, monkeypatch) -> None:
    monkeypatch.setattr(meetings.views, "page_state", broken)
    response = client.get(page_url(appointment))
    html = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="en">' in html
    assert "Something went wrong" in html
    assert "Server Error (500)" not in html


def test_a_failure_anywhere_public_follows_the_browser(client: Client, monkeypatch) -> None:
    monkeypatch.setattr(meetings.views, "_participant", broken)
    welsh = client.get("/join/" + "z" * 32, headers={"Accept-Language": "cy"})
    assert welsh.status_code == 500
    assert '<html lang="cy">' in welsh.content.decode()
    assert "Mae rhywbeth wedi mynd o'i le" in welsh.content.decode()
    client.cookies["join_language"] = "cy"
    assert '<html lang="cy">' in client.get("/join/" + "z" * 32).content.decode()


def test_an_unknown_address_is_not_found_in_the_browsers_language(client: Client) -> None:
    welsh = client.get("/no-such-page", headers={"Accept-Language": "cy-GB,en;q=0.5"})
    assert welsh.status_code == 404
    assert '<html lang="cy">' in welsh.content.decode()
    assert "Ni ddaethpwyd o hyd i'r dudalen" in welsh.content.decode()
    english = client.get("/no-such-page")
    assert '<html lang="en">' in english.content.decode()
    assert "Page not found" in english.content.decode()


@pytest.mark.parametrize(
    ("handler", "exception", "status", "welsh", "english"),
    [
        (error_pages.bad_request, BadRequest("x"), 400, "Ni allem ddeall y cais", "We could not understand"),
        (error_pages.permission_denied, PermissionDenied("x"), 403, "Ni chewch weld y dudalen hon", "You cannot see"),
    ],
)
def test_refusals_are_in_the_browsers_language(
    rf: Any, handler: Any, exception: Exception, status: int, welsh: str, english: str
) -> None:
    request: HttpRequest = rf.get("/join/" + "z" * 32, headers={"Accept-Language": "cy"})
    response = handler(request, exception)
    assert response.status_code == status
    assert '<html lang="cy">' in response.content.decode()
    assert welsh in response.content.decode()
    response = handler(rf.get("/join/" + "z" * 32), exception)
    assert '<html lang="en">' in response.content.decode()
    assert english in response.content.decode()


def test_a_refused_form_token_is_in_the_pages_language(appointment: Appointment) -> None:
    client = Client(enforce_csrf_checks=True, headers={"Accept-Language": "cy"})
    # A step the page posts: its message, which the page shows beside the step.
    step = client.post(page_url(appointment) + "/consent", {}, content_type="application/json")
    assert step.status_code == 403
    assert step.json()["message"].startswith("Mae'r dudalen wedi dod i ben.")
    # A form: a page.
    form = client.post(page_url(appointment) + "/consent", {"consent": "true"})
    assert form.status_code == 403
    assert '<html lang="cy">' in form.content.decode()
    assert "Mae'r dudalen wedi dod i ben" in form.content.decode()


def test_the_back_office_and_the_api_keep_their_own_answers(client: Client, rf: Any) -> None:
    api = client.get("/api/v1/no-such-thing", headers={"Accept-Language": "cy"})
    assert api.status_code == 404
    assert api["Content-Type"].startswith("application/json")
    staff = error_pages.page_not_found(rf.get("/admin/no-such-thing/", headers={"Accept-Language": "cy"}), Http404())
    assert staff.status_code == 404
    assert b"<h1>Not Found</h1>" in staff.content  # type: ignore[attr-defined]


def test_too_many_requests_is_in_the_browsers_language(appointment: Appointment, settings) -> None:
    settings.PUBLIC_PAGE_RATE_PER_MINUTE = 1
    welsh = Client(REMOTE_ADDR="192.0.2.22", headers={"Accept-Language": "cy"})
    codes = [welsh.get(page_url(appointment)).status_code for _ in range(2)]
    assert codes == [200, 429]
    limited = welsh.get(page_url(appointment))
    assert '<html lang="cy">' in limited.content.decode()
    assert "Arhoswch am eiliad" in limited.content.decode()
