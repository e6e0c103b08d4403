"""Passkeys (django-otp-webauthn) as staff's second factor (issue 25.2), at the seams the browser test does not
reach: who may start a ceremony (never someone without the password, nor staff signed in through their
organisation, nor one who has a factor and has not used it), the recovery codes a first passkey brings (shown
once), the passkeys page's removals, and a superuser's reset taking passkeys with the rest."""

from typing import Any

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.test import Client
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticToken
from django_otp_webauthn.models import WebAuthnCredential

from accounts.services import second_factor_reset
from config.second_factor import _CODES_TO_SHOW, new_recovery_codes
from tests.config.test_second_factor import password_only
from tests.helpers import logged_in, staff

pytestmark = pytest.mark.django_db
BEGIN_REGISTER = "/admin/second-factor/passkey/register/"
BEGIN_SIGN_IN = "/admin/second-factor/passkey/sign-in/"
COMPLETE_SIGN_IN = "/admin/second-factor/passkey/signed-in/"
PASSKEYS = "/admin/second-factor/passkeys/"


def a_passkey(user, number: int = 1) -> WebAuthnCredential:
    """A stored passkey as a registration leaves it (the key itself is never used by these tests)."""
    credential_id = bytes([number]) * 16
    return WebAuthnCredential.objects.create(
        user=user,
        name=f"Passkey {number}",
        confirmed=True,
        credential_id=credential_id,
        credential_id_sha256=WebAuthnCredential.get_credential_id_sha256(credential_id),
        public_key=b"\x00" * 32,
    )


def test_nobody_without_the_password_may_start_either_ceremony() -> None:
    client = Client()
    for url in (BEGIN_REGISTER, BEGIN_SIGN_IN, COMPLETE_SIGN_IN):
        response = client.post(url, content_type="application/json", data={})
        assert response.status_code in (401, 403), url
        assert response["Content-Type"] == "application/json"
        assert "detail" in response.json()
    assert WebAuthnCredential.objects.count() == 0


def test_staff_signed_in_through_their_organisation_are_not_offered_passkeys(department, settings) -> None:
    user = staff("desk", department)
    client = Client()
    client.force_login(user, backend=settings.SSO_BACKEND)
    assert client.session[BACKEND_SESSION_KEY] == settings.SSO_BACKEND
    assert client.post(BEGIN_REGISTER, content_type="application/json").status_code in (401, 403)


def test_a_factor_not_yet_used_this_session_blocks_making_a_passkey(department) -> None:
    # A stolen password must not add its own passkey beside the owner's factor.
    user = staff("desk", department)
    new_recovery_codes(user)
    client = password_only("desk")
    response = client.post(BEGIN_REGISTER, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "user_not_verified"


def test_a_first_factor_may_be_a_passkey(department, settings) -> None:
    staff("desk", department)
    client = password_only("desk")
    options = client.post(BEGIN_REGISTER, content_type="application/json")
    assert options.status_code == 200
    assert options.json()["rp"] == {"name": "Appointments", "id": settings.OTP_WEBAUTHN_RP_ID}
    assert options.json()["user"]["name"] == "desk"
    assert options["Cache-Control"].startswith("max-age=0")
    # The verify step offers it once one is stored.
    page = client.get("/admin/second-factor/")
    assert b"passkey-registration-placeholder" in page.content


def test_the_codes_a_first_passkey_brought_are_shown_once(department) -> None:
    user = staff("desk", department)
    a_passkey(user)
    client = logged_in(user)
    codes = new_recovery_codes(user)
    session = client.session
    session[_CODES_TO_SHOW] = {"codes": codes, "made": "passkey"}
    session.save()
    first = client.get("/admin/second-factor/recovery-codes/?next=/admin/start/")
    assert first.status_code == 200
    assert "no-store" in first["Cache-Control"]
    assert all(code.encode() in first.content for code in codes)
    assert b"Your passkey is made." in first.content
    assert b"do not have your passkey" in first.content  # no app: nothing about a phone
    again = client.get("/admin/second-factor/recovery-codes/")
    assert not any(code.encode() in again.content for code in codes)
    assert set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == set(codes)


def test_the_verify_step_offers_the_passkey_only_to_who_has_one(department) -> None:
    with_one = staff("desk", department)
    a_passkey(with_one)
    new_recovery_codes(with_one)
    page = password_only("desk").get("/admin/second-factor/")
    assert b"Use your passkey or a code" in page.content
    assert b'id="passkey-verification-placeholder"' in page.content
    assert b"autofocus" not in page.content  # the passkey's button, then the code: nothing jumps past it

    without = staff("other", department)
    new_recovery_codes(without)
    page = password_only("other").get("/admin/second-factor/")
    assert b"Enter your code" in page.content
    assert b"passkey-verification" not in page.content


def test_the_passkeys_page_removes_one_but_never_the_last_factor(department) -> None:
    user = staff("desk", department)
    first, second = a_passkey(user, 1), a_passkey(user, 2)
    client = logged_in(user)  # verified by a recovery-codes device of the helper's
    listed = client.get(PASSKEYS)
    assert listed.status_code == 200
    assert listed.content.count(b'name="remove"') == 2
    assert b"Remove the passkey made " in listed.content

    removed = client.post(PASSKEYS, {"remove": str(first.pk)}, follow=True)
    assert removed.redirect_chain == [(PASSKEYS, 302)]
    assert list(WebAuthnCredential.objects.filter(user=user)) == [second]
    assert b"no longer signs you in" in removed.content
    assert b"no longer signs you in" not in client.get(PASSKEYS).content  # said once

    # Someone else's passkey, or nonsense: refused, nothing removed.
    other = a_passkey(staff("other", department), 3)
    for value in (str(other.pk), "not-a-number", ""):
        refused = client.post(PASSKEYS, {"remove": value})
        assert refused.status_code == 200  # the page again, with its error (no failed load in the console)
        assert b"not one of yours" in refused.content
    assert WebAuthnCredential.objects.count() == 2

    # The last passkey, with no app: recovery codes are not a factor to live on, so it stays; its Remove is not
    # offered, and a removal posted anyway (a page left open) is refused.
    listed = client.get(PASSKEYS)
    assert b'name="remove"' not in listed.content
    assert b"Your only way to sign in" in listed.content
    refused = client.post(PASSKEYS, {"remove": str(second.pk)})
    assert refused.status_code == 200
    assert b"make another passkey before you remove this one" in refused.content
    assert WebAuthnCredential.objects.filter(user=user).count() == 1


def test_removing_the_passkey_signed_in_with_keeps_the_session(department) -> None:
    user = staff("desk", department)
    used, other = a_passkey(user, 1), a_passkey(user, 2)
    client = logged_in(user)
    session = client.session
    session["otp_device_id"] = used.persistent_id  # as a sign-in with that passkey leaves it
    session.save()
    assert client.get(PASSKEYS).status_code == 200

    assert client.post(PASSKEYS, {"remove": str(used.pk)}).status_code == 302
    assert client.get(PASSKEYS).status_code == 200  # still past the second factor
    assert client.session["otp_device_id"] == other.persistent_id


def test_a_superusers_reset_takes_passkeys_with_the_other_factors(department) -> None:
    user = staff("desk", department)
    a_passkey(user)
    new_recovery_codes(user)
    admin = staff("root", department, superuser=True)
    assert second_factor_reset(user=user, actor=admin) == 2
    assert WebAuthnCredential.objects.filter(user=user).count() == 0
    assert list(devices_for_user(user, confirmed=None)) == []


@pytest.mark.parametrize(
    "body",
    ["not json", "{}", '{"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}}', "[1, 2]", '"x"'],
)
def test_a_ceremony_answered_with_nonsense_is_refused_in_json_and_changes_nothing(department, body: str) -> None:
    staff("desk", department)
    client = password_only("desk")
    for begin, complete in (
        (BEGIN_REGISTER, "/admin/second-factor/passkey/registered/"),
        (BEGIN_SIGN_IN, COMPLETE_SIGN_IN),
    ):
        client.post(begin, content_type="application/json")
        response = client.post(complete, data=body, content_type="application/json")
        assert 400 <= response.status_code < 500, (complete, response.status_code)
        assert response["Content-Type"] == "application/json"
        assert "detail" in response.json()
        # The challenge was used up: the same answer again is refused for want of one.
        again = client.post(complete, data=body, content_type="application/json")
        assert again.status_code == 400
    assert WebAuthnCredential.objects.count() == 0
    assert client.get("/admin/start/").status_code == 302  # still not past the second factor


@pytest.mark.django_db(transaction=True)
def test_two_removals_at_once_never_remove_the_last_factor(department) -> None:
    """Twenty people's worth of races: two sessions each remove one of the last two passkeys at the same moment;
    one removal wins, the other is refused, and a passkey always stays (the person's row is locked)."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises every write: the race needs PostgreSQL's concurrent transactions")
    for round_number in range(20):
        user = staff(f"desk{round_number}", department)
        first, second = a_passkey(user, 2 * round_number + 1), a_passkey(user, 2 * round_number + 2)
        clients = [logged_in(user), logged_in(user)]
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def remove(client: Client, passkey: Any, barrier: threading.Barrier, statuses: list[int]) -> None:
            barrier.wait()
            statuses.append(client.post(PASSKEYS, {"remove": str(passkey.pk)}).status_code)
            connection.close()

        threads = [
            threading.Thread(target=remove, args=(client, passkey, barrier, statuses))
            for client, passkey in zip(clients, (first, second), strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200, 302], statuses
        assert WebAuthnCredential.objects.filter(user=user).count() == 1


def test_a_first_passkey_and_its_recovery_codes_are_made_together_or_not_at_all(department, monkeypatch) -> None:
    """The process dies (here: the recovery codes fail) after the passkey is stored and before its codes are: the
    passkey is not kept either, so nobody is left with a first factor and no codes, never told."""
    import config.second_factor as second_factor

    user = staff("desk", department)
    client = password_only("desk")
    session = client.session
    session["otp_webauthn_register_state"] = {"challenge": "x"}
    session.save()

    class Helper:
        def register_complete(self, user: Any, state: Any, data: Any) -> WebAuthnCredential:
            return a_passkey(user)

    def killed(user: Any) -> list[str]:
        raise RuntimeError("killed between the passkey and its codes")

    monkeypatch.setattr(WebAuthnCredential, "get_webauthn_helper", classmethod(lambda cls, request: Helper()))
    monkeypatch.setattr(second_factor, "new_recovery_codes", killed)
    with pytest.raises(RuntimeError):
        client.post("/admin/second-factor/passkey/registered/", data={}, content_type="application/json")
    assert WebAuthnCredential.objects.filter(user=user).count() == 0
