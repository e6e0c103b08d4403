"""Staff replace their own authenticator app (a new phone) or add one (left by issue 25.2: only a superuser's reset
could move the factor, which signs the person out and makes them enrol from scratch). From a session that passed
its second factor, with the password again and a code from the new app; the old app stops signing in at once, the
session goes on, and nothing changes on a wrong password or a wrong code."""

import logging
import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.config.test_passkeys import a_passkey
from tests.config.test_second_factor import LIST, follow_to_second_factor, password_only
from tests.helpers import PASSWORD, logged_in, staff

pytestmark = pytest.mark.django_db
APP = "/admin/second-factor/app/"


def code_of(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key):06d}"


def signed_in_with_an_app(user) -> tuple[Client, TOTPDevice]:
    """The person's app confirmed, and a browser signed in with their password and a code from it."""
    old = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    client = password_only(user.username)
    assert client.post("/admin/second-factor/", {"code": code_of(old), "next": LIST})["Location"] == LIST
    assert client.get(LIST).status_code == 200
    return client, old


def test_a_new_phone_replaces_the_app_and_the_old_one_stops_signing_in(department, caplog) -> None:
    user = staff("desk", department)
    client, old = signed_in_with_an_app(user)
    page = client.get(APP)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]  # a key and a QR code: never kept by a cache
    assert b"Your authenticator app was set up on" in page.content
    assert b'href="/admin/second-factor/app/"' in client.get(LIST).content  # offered among the person's links
    new = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.get(APP).context["key"] == page.context["key"]  # a reload keeps the key scanned
    with time_machine.travel(timezone.now() + timedelta(seconds=31)), caplog.at_level(logging.INFO):
        answer = client.post(APP, {"code": code_of(new), "password": PASSWORD})
    assert answer.status_code == 302
    assert list(TOTPDevice.objects.filter(user=user).values_list("pk", "confirmed")) == [(new.pk, True)]
    assert b"Your new authenticator app is set up" in client.get(answer["Location"], follow=True).content
    assert TOTPDevice.objects.filter(user=user).count() == 1  # no new key made after it
    assert client.get(LIST).status_code == 200  # the session goes on, now verified by the new app
    assert f"Authenticator app replaced user_id={user.pk}" in caplog.text
    assert "desk" not in caplog.text  # the id only
    # Another browser: the old app's code no longer opens the back office; the new one's does.
    again = password_only("desk")
    assert b"That code is not right" in again.post("/admin/second-factor/", {"code": code_of(old)}).content
    with time_machine.travel(timezone.now() + timedelta(seconds=62)):
        assert again.post("/admin/second-factor/", {"code": code_of(new), "next": LIST})["Location"] == LIST
    assert again.get(LIST).status_code == 200


@pytest.mark.parametrize("wrong", ["password", "code"])
def test_a_wrong_password_or_code_changes_nothing(department, wrong: str) -> None:
    user = staff("desk", department)
    client, old = signed_in_with_an_app(user)
    client.get(APP)
    new = TOTPDevice.objects.get(user=user, confirmed=False)
    form = {"code": code_of(new), "password": PASSWORD} | {
        "password": {"password": "not-it"},
        "code": {"code": "000000"},
    }[wrong]
    answer = client.post(APP, form)
    assert answer.status_code == 200
    said = {"password": b"That is not your password.", "code": b"That code is not right."}[wrong]
    assert said in answer.content
    assert b'aria-invalid="true"' in answer.content
    assert set(TOTPDevice.objects.filter(user=user).values_list("pk", "confirmed")) == {(old.pk, True), (new.pk, False)}
    assert client.get(LIST).status_code == 200
    # A wrong password counts towards the sign-in's lockout (django-axes), as at the sign-in page.
    assert AccessAttempt.objects.filter(username="desk").count() == (1 if wrong == "password" else 0)


def test_someone_with_recovery_codes_or_passkeys_adds_an_app_and_keeps_them(department) -> None:
    user = staff("desk", department)
    passkey = a_passkey(user)
    client = logged_in(user)  # verified by a recovery code
    page = client.get(APP)
    assert b"You have no authenticator app: you can add one here." in page.content
    new = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post(APP, {"code": code_of(new), "password": PASSWORD}).status_code == 302
    assert TOTPDevice.objects.get(user=user).confirmed is True
    passkey.refresh_from_db()  # still there
    assert StaticDevice.objects.filter(user=user).count() == 1  # and the recovery codes' device


def test_not_without_the_second_factor_nor_for_staff_signed_in_by_their_organisation(department, settings) -> None:
    user = staff("desk", department)
    TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    assert follow_to_second_factor(password_only("desk"), APP).startswith("/admin/second-factor/")
    assert Client().get(APP)["Location"].startswith("/admin/login/")
    organisation = Client()
    organisation.force_login(user, backend=settings.SSO_BACKEND)
    assert organisation.get(APP)["Location"] == "/admin/"
    assert TOTPDevice.objects.filter(user=user).count() == 1  # nothing pending was made for them


def test_the_field_to_mend_has_the_focus(department) -> None:
    user = staff("desk", department)
    client, _old = signed_in_with_an_app(user)

    def focused(html: bytes) -> list[str]:
        return re.findall(r'<input[^>]*name="(\w+)"[^>]*autofocus', html.decode())

    assert focused(client.get(APP).content) == ["code"]
    new = TOTPDevice.objects.get(user=user, confirmed=False)
    assert focused(client.post(APP, {"code": code_of(new), "password": "not-it"}).content) == ["password"]
    assert focused(client.post(APP, {"code": "000000", "password": PASSWORD}).content) == ["code"]


def test_a_code_tried_too_soon_after_wrong_ones_says_when_to_try_again(department) -> None:
    user = staff("desk", department)
    client, _old = signed_in_with_an_app(user)
    client.get(APP)
    new = TOTPDevice.objects.get(user=user, confirmed=False)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert b"That code is not right." in client.post(APP, {"code": "000000", "password": PASSWORD}).content
        refused = client.post(APP, {"code": code_of(new), "password": PASSWORD})  # right, but within the wait
        assert b"Too many wrong codes in a row: try again in 1 second." in refused.content
        clock.shift(1.5)
        assert client.post(APP, {"code": code_of(new), "password": PASSWORD}).status_code == 302


def test_set_up_on_is_when_the_app_was_confirmed_not_first_shown(department) -> None:
    user = staff("desk", department)
    client, _old = signed_in_with_an_app(user)
    shown = timezone.now().replace(microsecond=0)
    with time_machine.travel(shown, tick=False):
        client.get(APP)
    new = TOTPDevice.objects.get(user=user, confirmed=False)
    with time_machine.travel(shown + timedelta(minutes=10), tick=False):
        assert client.post(APP, {"code": code_of(new), "password": PASSWORD}).status_code == 302
    new.refresh_from_db()
    assert new.created_at == shown + timedelta(minutes=10)


def test_too_many_wrong_passwords_lock_the_account_and_end_this_session(department, settings) -> None:
    """Guessing the password from a screen left open ends like guessing it at the sign-in page: locked, and signed
    out (the walk found the session went on while new sign-ins were refused)."""
    user = staff("desk", department)
    client, old = signed_in_with_an_app(user)
    client.get(APP)
    new = TOTPDevice.objects.get(user=user, confirmed=False)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert b"That is not your password." in client.post(APP, {"code": code_of(new), "password": "wrong"}).content
    locked = client.post(APP, {"code": code_of(new), "password": "wrong"})
    assert b"Too many failed sign-ins" in locked.content
    assert client.get(LIST)["Location"].startswith("/admin/login/")  # this session is over too
    refused = Client().post("/admin/login/", {"username": "desk", "password": PASSWORD, "next": LIST})
    assert b"Too many failed sign-ins" in refused.content  # and a new sign-in waits out the lockout
    assert set(TOTPDevice.objects.filter(user=user).values_list("pk", "confirmed")) == {(old.pk, True), (new.pk, False)}
