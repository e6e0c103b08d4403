"""The second factor in a real browser (issue 25.2): a local account without one cannot reach the back office;
it enrols with an authenticator app's code (computed here from the key the page shows), keeps its recovery codes,
and a recovery code signs it in from another browser, once. Keyboard only, 390 px wide, dark, axe-core's WCAG 2.2
AA rules, no console error and no CSP violation."""

from base64 import b32decode
from typing import Any

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.e2e.conftest import WCAG22_AA, _watched, accessibility_violations
from tests.helpers import PASSWORD, staff

pytestmark = pytest.mark.django_db(transaction=True)
LIST = "/admin/appointments/appointment/"
PHONE = {"width": 390, "height": 844}


def password(page: Any, base: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.focus("#id_username")
    page.keyboard.type("desk")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/admin/second-factor/**")


def keep_recovery_codes(page: Any, base: str, user: Any, axe_source: str) -> list[str]:
    """On the page that shows them once after enrolment: the user's ten recovery codes, the page's accessibility
    checked, then on by keyboard to the back office."""
    page.wait_for_selector("#recovery-codes")
    codes = [code.strip() for code in page.locator("#recovery-codes code").all_inner_texts()]
    assert len(codes) == 10
    assert set(codes) == set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert accessibility_violations(page, axe_source, WCAG22_AA) == []
    page.focus("#continue")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}{LIST}")
    return codes


def test_enrolment_then_recovery_codes_in_the_browser(live_server, browser: Any, department, axe_source: str) -> None:
    base = live_server.url
    user = staff("desk", department)
    context = browser.new_context(viewport=PHONE, color_scheme="dark")
    try:
        page = _watched(context)
        password(page, base)
        assert page.inner_text("#content h1") == "Set up your second factor"
        # The back office stays shut: any page of it comes back here.
        page.goto(f"{base}{LIST}")
        page.wait_for_url(f"{base}/admin/second-factor/**")
        assert accessibility_violations(page, axe_source, WCAG22_AA) == []
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.locator("img[alt^='QR code']").evaluate("img => img.naturalWidth") > 0

        # The key as the page writes it, typed into an "authenticator app" (django-otp's own TOTP).
        written = page.inner_text("#second-factor-key").replace(" ", "")
        key = b32decode(written + "=" * (-len(written) % 8))
        page.focus("#id_code")
        page.keyboard.type(f"{totp(key):06d}")
        page.keyboard.press("Enter")
        codes = keep_recovery_codes(page, base, user, axe_source)
        assert page.console_errors == []
    finally:
        context.close()

    # Another browser, without the phone: the password, then a recovery code; the same code again is refused.
    for attempt in ("first", "again"):
        context = browser.new_context(viewport=PHONE, color_scheme="dark")
        try:
            page = _watched(context)
            password(page, base)
            assert page.inner_text("#content h1") == "Enter your code"
            page.focus("#id_code")
            page.keyboard.type(codes[0])
            page.keyboard.press("Enter")
            if attempt == "first":
                page.wait_for_url(f"{base}{LIST}")
            else:
                page.wait_for_selector("#code-error")
                assert "not right" in page.inner_text("#code-error")
                assert accessibility_violations(page, axe_source, WCAG22_AA) == []
                page.goto(f"{base}{LIST}")
                page.wait_for_url(f"{base}/admin/second-factor/**")
            assert page.console_errors == []
        finally:
            context.close()
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_a_new_phone_replaces_the_app_in_the_browser(live_server, browser: Any, department, axe_source: str) -> None:
    """From the person's own links, keyboard only, at 390 px in dark mode: the new app's key read off the page, a
    wrong password refused and said, then the new app confirmed; the old app's code then opens nothing."""
    base = live_server.url
    user = staff("desk", department)
    old = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    context = browser.new_context(viewport=PHONE, color_scheme="dark")
    try:
        page = _watched(context)
        password(page, base)
        page.focus("#id_code")
        page.keyboard.type(f"{totp(old.bin_key):06d}")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}{LIST}")  # where the staff member's start page sends them
        page.focus("#user-tools a[href='/admin/second-factor/app/']")
        page.keyboard.press("Enter")
        page.wait_for_selector("#current-app")
        assert page.inner_text("#content h1") == "Your authenticator app"
        assert accessibility_violations(page, axe_source, WCAG22_AA) == []
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        written = page.inner_text("#second-factor-key").replace(" ", "")
        key = b32decode(written + "=" * (-len(written) % 8))
        for typed_password in ("not my password", PASSWORD):
            page.focus("#id_code")
            page.keyboard.type(f"{totp(key):06d}")
            page.keyboard.press("Tab")
            page.keyboard.type(typed_password)
            page.keyboard.press("Enter")
            page.wait_for_load_state()
            if typed_password != PASSWORD:
                assert "That is not your password." in page.inner_text("#app-error")
                assert page.get_attribute("#id_password", "aria-invalid") == "true"
                assert accessibility_violations(page, axe_source, WCAG22_AA) == []
        page.wait_for_selector(".messagelist .success")
        assert "Your new authenticator app is set up" in page.inner_text(".messagelist")
        assert page.console_errors == []
    finally:
        context.close()
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert TOTPDevice.objects.get(user=user).confirmed is True
