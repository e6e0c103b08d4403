"""Passkeys as the second factor, in a real browser (issue 25.2): Chromium's virtual authenticator (the DevTools
protocol's WebAuthn domain, a real authenticator in every respect but its hardware) makes a passkey on the
enrolment page, by keyboard; the recovery codes follow, once; after signing out, the password and then the passkey
open the back office; the passkeys page lists it. 390 px wide, dark, axe-core's WCAG 2.2 AA rules, no console
error and no Content-Security-Policy violation."""

from typing import Any

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from tests.e2e.conftest import WCAG22_AA, _watched, accessibility_violations
from tests.e2e.test_second_factor import keep_recovery_codes, password
from tests.helpers import staff

pytestmark = pytest.mark.django_db(transaction=True)
LIST = "/admin/appointments/appointment/"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def passkey_site(settings: Any, live_server: Any) -> str:
    # The live server's address is the service's: the passkey's domain and origin (config/settings PASSKEY_*).
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    assert live_server.url.startswith("http://localhost:")
    return str(live_server.url)


def authenticator(page: Any) -> Any:
    """A platform authenticator that keeps passkeys and verifies its user (a fingerprint, a PIN) without asking."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    authenticator_id = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]
    return cdp, authenticator_id


def press_by_keyboard(page: Any, selector: str) -> None:
    """Tab from the top of the page until `selector` has the focus, then Enter: what a keyboard user does."""
    page.wait_for_selector(selector)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement === document.querySelector(s)", selector):
            page.keyboard.press("Enter")
            return
    raise AssertionError(f"{selector} is not reached by the keyboard")


def test_a_passkey_made_at_enrolment_signs_in_after_the_password(
    passkey_site: str, browser: Any, department, axe_source: str
) -> None:
    base = passkey_site
    user = staff("desk", department)
    context = browser.new_context(viewport=PHONE, color_scheme="dark")
    try:
        page = _watched(context)
        cdp, authenticator_id = authenticator(page)
        password(page, base)
        assert page.inner_text("#content h1") == "Set up your second factor"
        # In dark mode the app's QR code still has its white ground (a camera reads the light squares as white).
        qr = page.locator("img[alt^='QR code']").get_attribute("src") or ""
        assert "fill%3D%27%23fff%27%20d%3D%27M0%200h" in qr
        page.wait_for_selector("#passkey-register-button")
        assert accessibility_violations(page, axe_source, WCAG22_AA) == []
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]

        press_by_keyboard(page, "#passkey-register-button")
        page.wait_for_selector("#recovery-codes")
        assert page.inner_text("#factor-made") == "Your passkey is made."
        passkey = WebAuthnCredential.objects.get(user=user)
        assert passkey.confirmed
        stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
        assert len(stored) == 1
        assert stored[0]["rpId"] == "localhost"
        keep_recovery_codes(page, base, user, axe_source)
        # Shown once: the page again offers to make new ones, and shows none.
        page.goto(f"{base}/admin/second-factor/recovery-codes/")
        assert page.locator("#recovery-codes").count() == 0

        # Signed out, then in again: the password, then the passkey (the same authenticator, as on one's laptop).
        page.goto(f"{base}{LIST}")
        page.locator("#logout-form button").click()
        password(page, base)
        assert page.inner_text("#content h1") == "Use your passkey or a code"
        page.wait_for_selector("#passkey-verification-button")
        assert accessibility_violations(page, axe_source, WCAG22_AA) == []
        press_by_keyboard(page, "#passkey-verification-button")
        page.wait_for_url(f"{base}{LIST}")
        passkey.refresh_from_db()
        assert passkey.last_used_at is not None
        assert passkey.sign_count >= 1

        # The passkeys page lists it, by the user menu's link.
        page.goto(f"{base}/admin/second-factor/passkeys/")
        assert page.locator("#passkeys tbody tr").count() == 1
        assert accessibility_violations(page, axe_source, WCAG22_AA) == []
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.console_errors == []
    finally:
        context.close()
