"""Passwords kept for the break-glass account (issue 25.1's switch, PASSWORDS_FOR_SUPERUSERS_ONLY): with it on, a
staff member's right password is refused and counted towards the lockout like a wrong one, a superuser's still
signs in (to the second factor), a password session from before the switch ends at its next request, and a
session of the organisation's sign-in is not touched. Off, nothing changes."""

import pytest
from axes.models import AccessAttempt
from django.test import Client

from tests.helpers import PASSWORD, logged_in, staff

pytestmark = pytest.mark.django_db
LIST = "/admin/appointments/appointment/"


@pytest.fixture
def break_glass_only(settings):
    settings.PASSWORDS_FOR_SUPERUSERS_ONLY = True
    settings.OIDC_PROVIDERS = [{"id": "contoso", "name": "Contoso", "issuer": "https://id.example", "client_id": "x"}]
    return settings


def sign_in(username: str) -> tuple[Client, int]:
    client = Client()
    response = client.post("/admin/login/", {"username": username, "password": PASSWORD, "next": "/admin/start/"})
    return client, response.status_code


def test_a_staff_password_is_refused_and_counted(break_glass_only, department) -> None:
    staff("desk", department)
    client, status = sign_in("desk")
    assert status == 200  # the form again, saying whose password it takes
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.get(username="desk").failures_since_start == 1
    page = client.post("/admin/login/", {"username": "desk", "password": PASSWORD}).content.decode()
    assert "the break-glass administrator account. Staff sign in with their organisation" in page


def test_the_break_glass_superuser_signs_in_to_the_second_factor(break_glass_only, department) -> None:
    staff("root", department, superuser=True)
    client, status = sign_in("root")
    assert status == 302
    assert client.get(LIST).status_code == 302
    assert client.get(LIST, follow=True).redirect_chain[-1][0].startswith("/admin/second-factor/")
    assert not AccessAttempt.objects.filter(username="root").exists()


def test_turning_it_on_ends_a_staff_password_session_at_its_next_request(settings, department) -> None:
    client = logged_in(staff("desk", department))
    assert client.get(LIST).status_code == 200
    settings.PASSWORDS_FOR_SUPERUSERS_ONLY = True
    assert client.get(LIST).status_code == 302
    page = client.get("/admin/login/")
    assert page.status_code == 200
    assert "_auth_user_id" not in client.session  # signed out, not left half in, and told why
    assert "You were signed out: staff now sign in with their organisation" in page.content.decode()


def test_a_session_of_the_organisations_sign_in_stays(break_glass_only, department) -> None:
    user = staff("desk", department)
    client = Client()
    client.force_login(user, backend=break_glass_only.SSO_BACKEND)
    assert client.get(LIST).status_code == 200


def test_the_sign_in_page_says_who_the_password_is_for(settings, break_glass_only) -> None:
    page = Client().get("/admin/login/").content.decode()
    assert "Only for the break-glass administrator" in page
    assert page.index('id="sign-in-contoso"') < page.index('id="id_username"')
    assert "autofocus" not in page  # the keyboard starts at the top, the organisation's button first
    settings.PASSWORDS_FOR_SUPERUSERS_ONLY = False
    page = Client().get("/admin/login/").content.decode()
    assert "break-glass" not in page
    assert page.index('id="id_username"') < page.index('id="sign-in-contoso"')


def test_off_by_default_a_staff_password_signs_in(department) -> None:
    staff("desk", department)
    assert sign_in("desk")[1] == 302
