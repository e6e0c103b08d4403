"""Where staff land and how they move (issue 17.11): signing in (the password, then the second factor) lands on
today's list (the index for staff who may not see appointments, the page asked for when there is one), and every
back-office page links to today's list and the waiting room; the list leaves Django's sidebar of models out so the
Join column fits a laptop's width (tests/e2e/test_agents_landing.py measures it)."""

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.factories import UserFactory, make_appointment
from tests.helpers import PASSWORD, logged_in, recovery_code, staff

LIST = "/admin/appointments/appointment/"
WAITING = f"{LIST}waiting-room/"
CALENDAR = f"{LIST}calendar/"


def sign_in(username: str, query: str = "") -> tuple[Client, list[str]]:
    """The login page as a browser gets it, then its form posted back: where the sign-in lands, every hop."""
    client = Client()
    page = client.get(f"/admin/login/{query}").content.decode()
    hidden = re.search(r'name="next" value="([^"]*)"', page)
    assert hidden is not None
    response = client.post(
        f"/admin/login/{query}", {"username": username, "password": PASSWORD, "next": hidden[1]}, follow=True
    )
    # Then the second factor (issue 25.2), which keeps the page to land on.
    asked = response.redirect_chain[-1][0]
    assert asked.startswith("/admin/second-factor/")
    code = recovery_code(User.objects.get(username=username))
    response = client.post(asked, {"code": code, "next": response.context["next"]}, follow=True)
    assert response.status_code == 200
    return client, [url for url, _status in response.redirect_chain]


def test_an_agent_lands_on_todays_list(department) -> None:
    staff("desk", department)
    _client, hops = sign_in("desk")
    assert hops[-1] == LIST


def test_a_page_asked_for_is_where_the_sign_in_lands(department) -> None:
    staff("desk", department)
    _client, hops = sign_in("desk", f"?next={WAITING}")
    assert hops == [WAITING]


def test_staff_who_may_not_see_appointments_land_on_the_index(db) -> None:
    clerk = UserFactory.create(username="clerk", is_staff=True)  # staff, in no group: no appointments to see
    clerk.set_password(PASSWORD)
    clerk.save()
    client, hops = sign_in("clerk")
    assert hops[-1] == "/admin/"
    assert "Waiting room" not in client.get("/admin/").content.decode()


@pytest.mark.parametrize(
    "url",
    [
        LIST,
        f"{LIST}?show=week",
        WAITING,
        CALENDAR,
        "/admin/",
        "/admin/notifications/notification/",
        "/admin/password_change/",
    ],
)
def test_every_page_links_to_today_the_waiting_room_and_the_calendar(department, url: str) -> None:
    page = logged_in(staff("desk", department)).get(url).content.decode()
    nav = re.search(r'<nav class="backoffice-nav" aria-label="Your day">(.*?)</nav>', page, re.S)
    assert nav is not None
    links = re.findall(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', nav[1])
    assert [(href, name, bool(marked)) for href, marked, name in links] == [
        (LIST, "Today", url == LIST),
        (WAITING, "Waiting room", url == WAITING),
        (CALENDAR, "Calendar", url == CALENDAR),
    ]


def test_the_change_page_and_the_agents_meeting_link_to_the_waiting_room(department) -> None:
    desk = logged_in(staff("desk", department))
    appointment = make_appointment(department)
    assert f'<a href="{WAITING}">Waiting room</a>' in desk.get(f"{LIST}{appointment.pk}/change/").content.decode()
    meeting = desk.get(f"{LIST}{appointment.pk}/meeting/").content.decode()
    assert f'href="{WAITING}" target="_blank" rel="noopener">Waiting room' in meeting


def test_the_list_leaves_djangos_sidebar_out_and_other_pages_keep_it(department) -> None:
    desk = logged_in(staff("desk", department))
    assert 'id="nav-sidebar"' not in desk.get(LIST).content.decode()
    assert 'id="nav-sidebar"' in desk.get("/admin/notifications/notification/").content.decode()
