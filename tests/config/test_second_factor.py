"""The second factor of staff with a local password (issue 25.2): with STAFF_SECOND_FACTOR_REQUIRED on (the
default without DEBUG, and so in these tests), the password alone does not open the back office; an authenticator
app's code or a recovery code (each once) does; wrong codes are throttled; the password's lockout still applies."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.second_factor import new_recovery_codes
from tests.helpers import PASSWORD, recovery_code, staff

LIST = "/admin/appointments/appointment/"


def password_only(username: str) -> Client:
    client = Client()
    response = client.post("/admin/login/", {"username": username, "password": PASSWORD, "next": "/admin/start/"})
    assert response.status_code == 302
    return client


def follow_to_second_factor(client: Client, path: str = LIST) -> str:
    response = client.get(path, follow=True)
    assert response.redirect_chain[-1][0].startswith("/admin/second-factor/")
    return response.redirect_chain[-1][0]


def test_the_setting_is_on_without_debug_and_off_with_it(settings) -> None:
    # The tests run without DEBUG, as production does: the setting's default is on.
    assert settings.STAFF_SECOND_FACTOR_REQUIRED is True


def test_a_password_alone_does_not_open_the_back_office(department) -> None:
    staff("desk", department)
    client = password_only("desk")
    for path in (LIST, "/admin/", "/admin/auth/user/", "/admin/appointments/appointment/waiting-room/"):
        assert follow_to_second_factor(client, path).startswith("/admin/second-factor/")
    # Enrolment is offered: nobody has a device yet.
    page = client.get("/admin/second-factor/")
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    assert b"Set up your second factor" in page.content
    assert TOTPDevice.objects.filter(user__username="desk", confirmed=False).count() == 1


def test_enrolment_confirms_the_app_and_gives_recovery_codes_each_working_once(department) -> None:
    user = staff("desk", department)
    client = password_only("desk")
    client.get("/admin/second-factor/")
    enrolment = client.get("/admin/second-factor/")  # a reload keeps the key that was scanned
    assert b'id="nav-sidebar"' not in enrolment.content  # nothing of the back office before the factor
    device = TOTPDevice.objects.get(user=user)
    assert client.post("/admin/second-factor/", {"code": "000000"}).status_code == 200
    assert client.get(LIST).status_code == 302
    # A wrong code makes the next wait a second (django-otp's throttling): the right one comes a little later.
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        code = f"{totp(device.bin_key):06d}"
        answer = client.post("/admin/second-factor/", {"code": code, "next": "/admin/start/"})
    # On to the page that shows the codes once (a reload there neither posts again nor shows them twice).
    assert answer.status_code == 302
    assert answer["Location"] == "/admin/second-factor/recovery-codes/?next=%2Fadmin%2Fstart%2F"
    answer = client.get(answer["Location"])
    assert b"Your recovery codes" in answer.content
    assert b"Your authenticator app is set up." in answer.content
    assert b'id="recovery-codes"' not in client.get("/admin/second-factor/recovery-codes/").content
    codes = [str(code) for code in answer.context["codes"]]
    assert len(codes) == 10
    assert set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == set(codes)
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get(LIST).status_code == 200

    # A new browser: the password, then a recovery code opens it; the same code a second time does not.
    again = password_only("desk")
    assert b"Enter your code" in again.get("/admin/second-factor/").content
    assert again.post("/admin/second-factor/", {"code": codes[0], "next": LIST})["Location"] == LIST
    assert again.get(LIST).status_code == 200
    third = password_only("desk")
    refused = third.post("/admin/second-factor/", {"code": codes[0]})
    assert b"That code is not right" in refused.content
    assert third.get(LIST).status_code == 302
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_wrong_codes_are_throttled(department) -> None:
    user = staff("desk", department)
    code = recovery_code(user)
    client = password_only("desk")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        wrong = client.post("/admin/second-factor/", {"code": "wrong1"})
        # The page says how long the next try waits: 1 s after one wrong code, doubling with each.
        assert b"That code is not right, or it was used already. You can try again in 1 second." in wrong.content
        # Throttled after a wrong code: even the right one waits (django-otp's doubling delay).
        refused = client.post("/admin/second-factor/", {"code": code})
        assert b"That code is not right" in refused.content
        assert client.get(LIST).status_code == 302
        clock.shift(1.5)
        again = client.post("/admin/second-factor/", {"code": "wrong2"})
        assert b"You can try again in 2 seconds." in again.content
        clock.shift(2.5)
        assert client.post("/admin/second-factor/", {"code": code}).status_code == 302
    assert client.get(LIST).status_code == 200


def test_an_address_elsewhere_is_not_followed(department) -> None:
    user = staff("desk", department)
    client = password_only("desk")
    answer = client.post("/admin/second-factor/", {"code": recovery_code(user), "next": "https://evil.example/"})
    assert answer["Location"] == "/admin/start/"


def test_signing_out_from_the_second_factor_page(department) -> None:
    staff("desk", department)
    client = password_only("desk")
    assert client.post("/admin/second-factor/", {"sign_out": "1"})["Location"] == "/admin/login/"
    assert "_auth_user_id" not in client.session


def test_with_the_setting_off_a_password_is_enough(department, settings) -> None:
    settings.STAFF_SECOND_FACTOR_REQUIRED = False
    staff("desk", department)
    assert password_only("desk").get(LIST).status_code == 200


@pytest.mark.parametrize("who", ["anonymous", "not staff"])
def test_the_page_is_for_signed_in_staff_only(who, department) -> None:
    client = Client()
    if who == "not staff":
        user = staff("desk", department)
        user.is_staff = False
        user.save()
        client.force_login(user)
    assert client.get("/admin/second-factor/")["Location"] == "/admin/login/"
    assert not TOTPDevice.objects.exists()


def test_recovery_codes_can_be_replaced(department) -> None:
    from tests.helpers import logged_in

    user = staff("desk", department)
    client = logged_in(user)
    old = new_recovery_codes(user)[0]
    answer = client.post("/admin/second-factor/recovery-codes/", follow=True)
    assert answer.redirect_chain[0][1] == 302  # then shown by a GET: a reload does not make another set
    assert len(answer.context["codes"]) == 10
    assert not StaticToken.objects.filter(token=old).exists()
